"""Figure 4: cold start: seconds from launching `python run.py` to the first 200 from /healthz.

Measured on an empty database (a new file each time) and on an existing one (10 thousand messages among
200 users, built as for the history figure). /healthz is polled every 2 ms from the moment of launch. The
server's own log line "app built in N ms" splits the time into interpreter and imports before
create_app, create_app itself (schema check, counter rebuild), and binding the two servers after it.
"""
from __future__ import annotations

import re

from . import history
from .common import Context, Server, median

EXISTING_MESSAGES = 10_000


def _start(ctx: Context, database: str | None) -> dict:
    server = Server(ctx, database=database)
    server.stop()
    built = re.search(r"app built in (\d+) ms", server.log())
    return {"ready_seconds": round(server.ready_seconds, 3),
            "create_app_seconds": int(built.group(1)) / 1000 if built else None}


def _summary(starts: list[dict]) -> dict:
    return {"ready_seconds": median([s["ready_seconds"] for s in starts]),
            "create_app_seconds": median([s["create_app_seconds"] for s in starts]), "runs": starts}


def run(ctx: Context) -> dict:
    runs = ctx.scale(5, 2)
    result = {"method": "launch to first 200 from /healthz, polled every 2 ms", "runs": runs}
    if ctx.embedded_sqlite:
        result["empty"] = _summary([_start(ctx, None) for _ in range(runs)])
        path = ctx.tmp / "coldstart-existing.db"
        history.build(path, EXISTING_MESSAGES)
        existing = f"sqlite:///{path}"
        result["existing_messages"] = EXISTING_MESSAGES
    else:
        existing = None  # the real database as it is
    result["existing"] = _summary([_start(ctx, existing) for _ in range(runs)])
    for kind in ("empty", "existing"):
        if kind in result:
            ctx.say(f"cold start, {kind} database: {result[kind]['ready_seconds']}s to the first 200 "
                    f"(create_app {result[kind]['create_app_seconds']}s), median of {runs}")
    return result
