"""A large group (read diffusion) through SIGKILLs mid-traffic: every message acknowledged to its sender is in
the group's timeline once, the gseqs stay gapless, a member resuming by its gseq holds each message once in
order, and after the restart every member's unread (N - L, rebuilt from the database) is the database's count.
"""
from __future__ import annotations

import threading
import time
from http.client import HTTPException

from .processes import Process
from .test_crash import _database

SENDERS, PER_SENDER, KILLS = 3, 40, 2


def _call(holder: dict, method: str, path: str, body=None, token=None):
    """Call whichever server is live, waiting out a restart; the same request again after a cut."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, data, _ = holder["server"].http.call(method, path, body, token, timeout=10)
        except (OSError, HTTPException):
            time.sleep(0.1)
            continue
        if status != 503:
            return status, data
        time.sleep(0.1)
    raise AssertionError(f"{method} {path} never answered")


def test_killed_mid_traffic_a_large_group_loses_nothing_acknowledged_and_counts_exactly(tmp_path):
    db_path = tmp_path / "imdemo.db"
    args = ("--database", f"sqlite:///{db_path}", "--no-demo", "--send-rate", "0", "--register-rate", "0")
    holder = {"server": Process(*args, env_extra={"IMDEMO_PASSWORD_COST": "16"}, log_path=tmp_path / "s0.log")}
    holder["server"].wait_ready()
    users = []
    for i in range(SENDERS + 2):
        _call(holder, "POST", "/api/register", {"username": f"user{i}", "password": "pw1234"})
        _, data = _call(holder, "POST", "/api/login", {"username": f"user{i}", "password": "pw1234"})
        users.append((data["user"]["uid"], data["token"]))
    _, made = _call(holder, "POST", "/api/groups", {"name": "big", "members": [u for u, _ in users[1:]],
                                                    "large": True}, users[0][1])
    gid, acknowledged, problems = made["group"]["gid"], {}, []

    def send(index: int) -> None:
        uid, token = users[index]
        for n in range(PER_SENDER):
            cmid = f"s{index}-{n}"
            status, data = _call(holder, "POST", f"/api/groups/{gid}/messages", {"content": cmid,
                                                                                 "client_msg_id": cmid}, token)
            if status in (200, 201):
                acknowledged[cmid] = data["message"]
            else:
                problems.append((cmid, status, data))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    for k in range(KILLS):
        deadline = time.monotonic() + 30
        while len(acknowledged) < (k + 1) * SENDERS * PER_SENDER // (KILLS + 1) and time.monotonic() < deadline:
            time.sleep(0.02)
        holder["server"].popen.kill()
        holder["server"].popen.wait()
        holder["server"] = Process(*args, env_extra={"IMDEMO_PASSWORD_COST": "16"},
                                   log_path=tmp_path / f"s{k + 1}.log")
        holder["server"].wait_ready()
    for t in threads:
        t.join(120)
    assert not problems and len(acknowledged) == SENDERS * PER_SENDER
    con = _database(db_path)
    try:
        rows = con.execute("SELECT t.gseq, c.client_msg_id FROM im_group_timeline t JOIN im_msg_content c"
                           " ON c.mid = t.mid WHERE t.gid = ? ORDER BY t.gseq", (gid,)).fetchall()
    finally:
        con.close()
    assert [g for g, _ in rows] == list(range(1, len(rows) + 1))  # gapless
    stored = [cmid for _, cmid in rows if cmid]
    assert sorted(stored) == sorted(acknowledged) and len(stored) == len(set(stored))  # each once
    reader_uid, reader_token = users[-1]  # sent nothing: everything is unread for them
    since = len(rows) - 60  # a cursor 60 behind: resumed without a gap, each once, in gseq order
    _, answer = _call(holder, "GET", f"/api/sync?since=0&groups={gid}:{since}&limit=1000", token=reader_token)
    held = [e["gseq"] for e in answer["events"] if e.get("group") == gid]
    assert held == list(range(since + 1, len(rows) + 1)) and answer["groups_next"] == {str(gid): len(rows)}
    for uid, token in users:
        _, unread = _call(holder, "GET", "/api/unread", token=token)
        expected = len([m for m in acknowledged.values() if m["from"] != uid and _after_own(m, uid, acknowledged)])
        assert unread["groups"] == {str(gid): expected}, uid
    holder["server"].stop()


def _after_own(message: dict, uid: int, acknowledged: dict) -> bool:
    """Whether message came after uid's own last message (sending marks what came before as read)."""
    own = [m["gseq"] for m in acknowledged.values() if m["from"] == uid]
    return message["gseq"] > max(own, default=0)
