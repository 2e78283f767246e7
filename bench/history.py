"""Figure 5: a page of history and the recent-contacts page, on 10 thousand and on 1 million messages.

The database is built fast: imdemo.store.database.open_database creates the schema, then raw sqlite3
executemany inserts fill the course's tables in one transaction (im_user with each user's last seq,
im_msg_content, im_msg_relation with two rows per message and per-user seqs, im_msg_contact with the
newest mid and a read marker; all read but the measured user's last 20 from each contact). 200 users each
talk with their 20 ring neighbours (every conversation gets a message first), and one pair (the measured
users, uid 1000 and 1001) takes 10% of all messages, so its history is deep. Then the
server starts on it (its unread counters are rebuilt from the database before it answers) and one
keep-alive client asks for the newest page, a page from the middle of the pair's conversation, and
/api/contacts, interleaved.
"""
from __future__ import annotations

import gc
import random
import re
import sqlite3
import time
from collections import defaultdict, deque
from datetime import datetime
from pathlib import Path

from .clients import PASSWORD, Http
from .common import Context, Server, percentiles

USERS, NEIGHBOURS, HOT_SHARE, FIRST_UID, UNREAD = 200, 10, 0.1, 1000, 20


def _pairs(count: int, rng: random.Random):
    """Yield (sender, recipient) for count messages; the first cover every ring conversation once."""
    ring = [(FIRST_UID + a, FIRST_UID + (a + k) % USERS) for a in range(USERS) for k in range(1, NEIGHBOURS + 1)]
    for i in range(count):
        if i < len(ring):
            yield ring[i]
        elif rng.random() < HOT_SHARE:
            yield (FIRST_UID, FIRST_UID + 1) if rng.random() < 0.5 else (FIRST_UID + 1, FIRST_UID)
        else:
            a, b = ring[rng.randrange(len(ring))]
            yield (a, b) if rng.random() < 0.5 else (b, a)


def filler(mid: int, a: int, b: int) -> str:
    return f"message {mid} from {a} to {b}, some words to make it look like a chat"


def build(path: Path, count: int, text=filler) -> dict:
    """Create a database of count messages at path, each saying text(mid, sender, recipient); return what the
    measurement needs to know."""
    gc.disable()  # millions of tuples and no cycles: the collector would only walk them again and again
    try:
        return _build(path, count, text)
    finally:
        gc.enable()


def _build(path: Path, count: int, text) -> dict:
    from imdemo.services.passwords import hash_password  # the project's own hash, made once for all users
    from imdemo.store.database import open_database

    open_database(f"sqlite:///{path}").close_all()  # the schema, exactly as the server creates it
    rng, seq, newest, recent = random.Random(6), defaultdict(int), {}, defaultdict(lambda: deque(maxlen=UNREAD))
    hot, now = [], int(time.time() * 1000) - count
    contents, relations = [], []
    for mid, (a, b) in enumerate(_pairs(count, rng), start=1):
        at = now + mid
        seq[a] += 1
        seq[b] += 1
        contents.append((mid, text(mid, a, b), a, b, 0, at))
        relations += [(a, b, mid, 0, seq[a], at), (b, a, mid, 1, seq[b], at)]
        newest[(a, b)], newest[(b, a)] = (mid, 0, at), (mid, 1, at)
        recent[(b, a)].append(mid)
        if {a, b} == {FIRST_UID, FIRST_UID + 1}:
            hot.append(mid)
    # Everything read, except the measured user's newest UNREAD messages from each contact.
    read = {key: (recent[key][0] - 1 if key[0] == FIRST_UID and recent[key] else mid) for key, (mid, _, _) in
            newest.items()}
    contacts = [(o, t, mid, kind, read[(o, t)], now, at) for (o, t), (mid, kind, at) in newest.items()]
    password = hash_password(PASSWORD)
    users = [(FIRST_UID + i, f"hist_{i:04d}", f"user {i}", password, "", seq[FIRST_UID + i], now) for i in range(USERS)]
    relations.sort()  # by owner, then mid: each index fills page after page
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = OFF")  # a scratch database: no rollback journal, no fsync, a big cache
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    with db:
        db.executemany("INSERT INTO im_user (uid, username, nickname, password_hash, avatar, seq, created_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)", users)
        db.executemany("INSERT INTO im_msg_content (mid, content, sender_id, recipient_id, msg_type, create_time)"
                       " VALUES (?, ?, ?, ?, ?, ?)", contents)
        db.executemany("INSERT INTO im_msg_relation (owner_uid, other_uid, mid, type, seq, create_time)"
                       " VALUES (?, ?, ?, ?, ?, ?)", relations)
        db.executemany("INSERT INTO im_msg_contact (owner_uid, other_uid, mid, type, read_mid, create_time,"
                       " update_time) VALUES (?, ?, ?, ?, ?, ?, ?)", contacts)
    db.execute("PRAGMA journal_mode = WAL")  # as the server leaves it
    db.close()
    return {"messages": count, "users": USERS, "hot_conversation": len(hot), "middle_mid": hot[len(hot) // 2],
            "size_mb": round(path.stat().st_size / 2**20, 1)}


def _log_seconds(log: str, first: str, last: str) -> float | None:
    """Seconds between the log lines containing first and last (the server's asctime stamps)."""
    stamps = {}
    for line in log.splitlines():
        for key in (first, last):
            if key in line and key not in stamps and (m := re.match(r"(\S+ \S+)", line)):
                stamps[key] = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
    return round((stamps[last] - stamps[first]).total_seconds(), 3) if len(stamps) == 2 else None


def measure(ctx: Context, count: int, samples: int) -> dict:
    path = ctx.tmp / f"history-{count}.db"
    started = time.perf_counter()
    facts = build(path, count)
    facts["build_seconds"] = round(time.perf_counter() - started, 2)
    ctx.say(f"history: built {count:,} messages ({facts['size_mb']} MB) in {facts['build_seconds']}s; starting")
    with Server(ctx, database=f"sqlite:///{path}") as server:
        facts["ready_seconds"] = round(server.ready_seconds, 3)
        facts["counter_rebuild_seconds"] = _log_seconds(server.log(), "rebuilding", "app built in")
        http = Http(server.port)
        http.token = http.ok("POST", "/api/login", {"username": "hist_0000", "password": PASSWORD})["token"]
        asks = {"history_newest": f"/api/conversations/{FIRST_UID + 1}/messages",
                "history_middle": f"/api/conversations/{FIRST_UID + 1}/messages?before={facts['middle_mid']}",
                "contacts": "/api/contacts"}
        times = {name: [] for name in asks}
        for _ in range(samples):
            for name, path_ in asks.items():
                t = time.perf_counter()
                http.ok("GET", path_)
                times[name].append((time.perf_counter() - t) * 1000)
        http.close()
    facts.update({name: percentiles(values) for name, values in times.items()})
    ctx.say(f"history at {count:,}: newest page p50 {facts['history_newest']['p50']} ms, middle page "
            f"{facts['history_middle']['p50']} ms, contacts {facts['contacts']['p50']} ms; ready in "
            f"{facts['ready_seconds']}s (counter rebuild {facts['counter_rebuild_seconds']}s)")
    return facts


def run(ctx: Context) -> dict:
    if not ctx.embedded_sqlite:
        return {"skipped": "the database is built with sqlite3: run without --database"}
    small, big, samples = 10_000, ctx.scale(1_000_000, 50_000), ctx.scale(300, 100)
    method = " ".join(__doc__.split("\n\n")[1].split())
    ctx.say(f"history: how: {method}")
    result = {"method": method, "small": measure(ctx, small, samples), "big": measure(ctx, big, samples)}
    for name in ("history_newest", "history_middle", "contacts"):
        result[f"{name}_ratio"] = round(result["big"][name]["p50"] / result["small"][name]["p50"], 2)
    return result
