"""Figure: search (GET /api/search) over a million messages on SQLite: latency p50/p99 for one and two Chinese
characters and English words, and the index's size against the messages'.

The database is history.py's (raw sqlite3 inserts: 200 users each talking with their 20 ring neighbours, one
pair, uid 1000 and 1001, with 10% of all messages), each message a chat line drawn from a vocabulary of
Chinese words and English words with Zipf-like frequencies (about 70% Chinese, 30% English). Its search
index is then dropped and made again as an upgrade makes it (the server's own code, open_database), which is
timed. The index's size and the messages' are read from SQLite's dbstat. The server starts on it, and a
keep-alive client asks each query as two users: uid 1000, who sees about 11% of the messages, and uid 1100,
who sees about 1%. Each query is also counted in the whole index (its matches among every user's messages):
the plan walks the index's matches newest first and keeps the caller's, so a query that matches much of
the database but little of the caller's walks the most: a word only the pair uses, asked by uid 1100, and a
search in one of uid 1100's conversations (0.05% of the messages).
"""
from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from . import history
from .clients import PASSWORD, Http
from .common import Context, Server, percentiles

ZH = ("你好 我们 明天 今天 开会 吃饭 周末 时间 工作 项目 问题 已经 知道 可以 没有 什么 这个 朋友 "
      "电话 地铁 下班 上班 谢谢 好的 收到 张三 李四 王五 电影 晚上 早上 中午 一起 看看 文件 发给 "
      "老师 考试 天气 下雨 出发 到了 等等 马上 哈哈 真的 不是 的 了 吗 呢 吧 啊 是 在 有 我 你 他 爬山").split()
EN = ("ok the a you to is it see thanks yes no meeting lunch tomorrow today project review coffee call weekend "
      "later file send check please maybe time team deploy hello").split()
PAIR_ONLY = ("猫咪", "kitten")  # said only by the pair: frequent in the database, absent from uid 1100's messages
QUERIES = {"one Chinese character": ["好", "张", "山"], "two Chinese characters": ["你好", "开会", "爬山"],
           "English word": ["ok", "meeting", "hello"], "not in the caller's messages (uid 1100)": list(PAIR_ONLY),
           "in one conversation (uid 1100 with uid 1101)": ["好", "你好", "hello"]}
USERS = {"uid 1000": "hist_0000", "uid 1100": "hist_0100"}
ALONE = {"not in": "", "in one": "&conversation=u1101"}  # classes asked by uid 1100 alone, and how


def _weights(n: int) -> list[float]:
    return [1 / (rank + 1) ** 0.9 for rank in range(n)]


def chat_text(seed: int = 24):
    """A text(mid, sender, recipient) for history.build: a short line of Chinese or English chat."""
    rng, zh, en = random.Random(seed), _weights(len(ZH)), _weights(len(EN))
    pair = {history.FIRST_UID, history.FIRST_UID + 1}

    def text(mid: int, a: int, b: int) -> str:
        special = [PAIR_ONLY[rng.random() < 0.5]] if {a, b} == pair and rng.random() < 0.3 else []
        if rng.random() < 0.7:
            words = rng.choices(ZH, zh, k=rng.randint(3, 9)) + special
            return "".join(words) + rng.choice("。！？，~")
        words = rng.choices(EN, en, k=rng.randint(3, 10)) + special
        return " ".join(words).capitalize() + rng.choice(".!? ")
    return text


def sizes(path: Path) -> dict:
    """Bytes of the messages' text, of their table, and of the search index (its FTS5 shadow tables)."""
    db = sqlite3.connect(path)
    try:
        pages = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
        text = db.execute("SELECT SUM(LENGTH(CAST(content AS BLOB))) FROM im_msg_content").fetchone()[0]
    finally:
        db.close()
    index = sum(size for name, size in pages.items() if name.startswith("im_msg_search"))
    mb = 2**20
    return {"text_mb": round(text / mb, 1), "content_table_mb": round(pages["im_msg_content"] / mb, 1),
            "index_mb": round(index / mb, 1), "index_over_text": round(index / text, 2),
            "index_over_content_table": round(index / pages["im_msg_content"], 2),
            "index_tables_mb": {n: round(s / mb, 1) for n, s in pages.items() if n.startswith("im_msg_search")}}


def index_again(path: Path) -> float:
    """Drop the search index and let the server's upgrade make it again; return the seconds it took."""
    from imdemo.store.database import open_database

    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE im_msg_search")
    started = time.perf_counter()
    open_database(f"sqlite:///{path}").close_all()
    return round(time.perf_counter() - started, 1)


def matches(path: Path) -> dict[str, int]:
    """How many messages of the whole database each query matches."""
    from imdemo.store.search import _sqlite_query
    from imdemo.store.search_text import query_terms

    db = sqlite3.connect(path)
    try:
        return {q: db.execute("SELECT COUNT(*) FROM im_msg_search WHERE im_msg_search MATCH ?",
                              (_sqlite_query(query_terms(q)),)).fetchone()[0]
                for qs in QUERIES.values() for q in qs}
    finally:
        db.close()


def measure(ctx: Context, count: int, rounds: int) -> dict:
    path = ctx.tmp / f"search-{count}.db"
    started = time.perf_counter()
    facts = history.build(path, count, chat_text())
    facts["build_seconds"] = round(time.perf_counter() - started, 1)
    facts["index_seconds"] = index_again(path)
    facts.update(sizes(path))
    facts["matches"] = matches(path)
    ctx.say(f"search: {count:,} messages built in {facts['build_seconds']} s, indexed in {facts['index_seconds']} s;"
            f" text {facts['text_mb']} MB, index {facts['index_mb']} MB ({facts['index_over_text']}x the text)")
    asks = [(name, user, q) for name, qs in QUERIES.items() for q in qs
            for user in (["uid 1100"] if _alone(name) is not None else USERS)]
    times = {ask: [] for ask in asks}
    with Server(ctx, database=f"sqlite:///{path}") as server:
        clients = {user: Http(server.port) for user in USERS}
        for user, name in USERS.items():
            login = {"username": name, "password": PASSWORD}
            clients[user].token = clients[user].ok("POST", "/api/login", login)["token"]
        counts = {}
        for _ in range(rounds):
            for name, user, q in asks:
                t = time.perf_counter()
                answer = clients[user].ok("GET", f"/api/search?q={quote(q)}&limit=20{_alone(name) or ''}")
                times[(name, user, q)].append((time.perf_counter() - t) * 1000)
                counts[f"{name}: {user} {q}"] = len(answer["results"])
        for client in clients.values():
            client.close()
    classes = {name: percentiles([ms for (n, _, _), each in times.items() if n == name for ms in each])
               for name in QUERIES}
    facts["latency_ms"] = classes
    facts["per_query_p50_ms"] = {f"{name}: {user} {q}": percentiles(ms)["p50"]
                                 for (name, user, q), ms in times.items()}
    facts["results_on_first_page"] = counts
    for name, p in classes.items():
        ctx.say(f"search {name}: p50 {p['p50']} ms, p99 {p['p99']} ms (n={p['n']})")
    return facts


def _alone(name: str) -> str | None:
    """The query string a class asked by uid 1100 alone adds, or None for a class both users ask."""
    return next((extra for start, extra in ALONE.items() if name.startswith(start)), None)


def run(ctx: Context) -> dict:
    if not ctx.embedded_sqlite:
        return {"skipped": "the database is built with sqlite3: run without --database"}
    method = " ".join(__doc__.split("\n\n")[1].split())
    ctx.say(f"search: how: {method}")
    return {"method": method, **measure(ctx, ctx.scale(1_000_000, 20_000), ctx.scale(30, 3))}
