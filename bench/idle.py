"""Figure 6: idle cost: the SQL statements a short poll and a waiting long poll run when nothing is new.

The server runs through bench/serve_traced.py, which logs every statement Peewee executes (its "peewee"
logger at DEBUG) to a file, one line each; a figure is the number of lines written during its window.
"""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from .clients import Http, accounts, catch_up, ws_open
from .common import Context, Server

SETTLE = 0.2  # seconds for the server to finish writing a window's log lines


def _lines(log: Path) -> int:
    return log.read_bytes().count(b"\n")


def _count(log: Path, action) -> int:
    """Run action; return how many statements the server executed meanwhile."""
    time.sleep(SETTLE)
    before = _lines(log)
    action()
    time.sleep(SETTLE)
    return _lines(log) - before


async def _ws_idle(ws_port: int, token: str, since: int, seconds: float) -> None:
    """Hold a WebSocket that is up to date, pinging every 0.5 s, for seconds."""
    ws = await ws_open(ws_port, token, since)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await ws.send(json.dumps({"type": "ping"}))
        if json.loads(await ws.recv()).get("type") != "pong":
            raise RuntimeError("expected pong")
        await asyncio.sleep(0.5)
    await ws.close()


def run(ctx: Context) -> dict:
    polls, wait = ctx.scale(50, 20), ctx.scale(3.0, 1.0)
    sends = 10
    log = ctx.tmp / "idle-sql.log"
    with Server(ctx, sql_log=log) as server:
        ctx.say(f"idle: server pid {server.pid} ready, logging its SQL to {log.name}")
        (a_uid, a_token), (b_uid, b_token) = accounts(server.port, [f"{ctx.tag}_i0", f"{ctx.tag}_i1"])
        alice, bob = Http(server.port, a_token), Http(server.port, b_token)
        per_send = _count(log, lambda: [alice.ok("POST", "/api/messages", {"to": b_uid, "content": f"idle {i}"})
                                        for i in range(sends)]) / sends
        since = catch_up(server.port, b_token)
        bob.ok("GET", f"/api/sync?since={since}&timeout=0")  # the first ack of `since` sends receipts (SQL)
        quiet = _count(log, lambda: time.sleep(wait))
        short = _count(log, lambda: [bob.ok("GET", f"/api/sync?since={since}&timeout=0") for _ in range(polls)])
        answered = {}

        def long_poll() -> None:
            started = time.monotonic()
            answered["page"] = bob.ok("GET", f"/api/sync?since={since}&timeout={wait}")
            answered["seconds"] = time.monotonic() - started
        long = _count(log, long_poll)
        ws = _count(log, lambda: asyncio.run(_ws_idle(server.ws_port, b_token, since, wait)))
        alice.close()
        bob.close()
    if answered["page"]["events"]:
        raise RuntimeError(f"the idle long poll returned events: {answered['page']}")
    ctx.say(f"idle: short poll {short / polls:.2f} SQL each, long poll waiting {answered['seconds']:.1f}s: "
            f"{long} SQL, WebSocket idle {wait:.0f}s: {ws} SQL, nothing asked {wait:.0f}s: {quiet}, "
            f"a send: {per_send:.1f}")
    return {"method": "statements in Peewee's DEBUG log (bench/serve_traced.py) during each window",
            "short_polls": polls, "short_poll_sql": short, "short_poll_sql_per_poll": short / polls,
            "long_poll_seconds": round(answered["seconds"], 2), "long_poll_sql": long,
            "ws_idle_seconds": wait, "ws_idle_sql": ws, "quiet_sql": quiet, "sql_per_send": per_send}
