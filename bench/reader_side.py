"""The groups figure's reader side: what a member's idle short poll costs by the number of groups they are in,
written or read diffused (bench/groups.py).

Write diffusion puts a group's messages in each member's own timeline, so one seq covers every group and an
idle poll reads nothing (bench/idle.py: 0 SQL). Read diffusion gives each large group a cursor of its own (the
compound cursor, SPEC 15): a poll looks at each of them. Three members of one server, in no group, in GROUPS
write-diffusion groups and in as many read-diffusion ones (small groups, nobody writing), each short-polls
with the cursors it was given: a few times on a server run through serve_traced.py, whose SQL statements are
counted, then POLLS times in three rounds on a plain one, whose CPU a poll is read from /proc.
"""
from __future__ import annotations

import time

from .clients import Http
from .common import Context, Server, median
from .crowd import GroupPlan, build

GROUPS, SIZE = 50, 10
POLLS = 300


def _poll_query(http: Http) -> str:
    """The member's idle short poll: from where it stands, with its large groups' cursors."""
    first = http.ok("GET", "/api/sync?since=0&timeout=0&limit=1000")
    cursors = ",".join(f"{g}:{n}" for g, n in first.get("groups_next", {}).items())
    return f"/api/sync?since={first['next']}&timeout=0" + (f"&groups={cursors}" if cursors else "")


def _polls(server: Server, token: str, polls: int, log=None) -> dict:
    """Short-poll polls times: the server's CPU ms a poll (from /proc), or with log (serve_traced.py's) the SQL
    statements a poll."""
    http = Http(server.port, token)
    try:
        query = _poll_query(http)
        statements = len(log.read_text().splitlines()) if log else 0
        cpu, started = server.cpu_seconds(), time.perf_counter()
        for _ in range(polls):
            http.ok("GET", query)
        if log:
            return {"sql_per_poll": round((len(log.read_text().splitlines()) - statements) / polls, 2)}
        return {"cpu_ms_per_poll": round((server.cpu_seconds() - cpu) * 1000 / polls, 3),
                "wall_ms_per_poll": round((time.perf_counter() - started) * 1000 / polls, 3)}
    finally:
        http.close()


def run(ctx: Context) -> dict:
    groups, polls = ctx.scale(GROUPS, 10), ctx.scale(POLLS, 30)
    url = f"sqlite:///{ctx.tmp / 'reader-side.db'}"
    # users 0..SIZE-1 share `groups` write-diffusion groups, SIZE..2*SIZE-1 as many read-diffusion ones; the
    # last user is in none
    plans = [GroupPlan(f"w{i}", SIZE, False, 0) for i in range(groups)]
    plans += [GroupPlan(f"r{i}", SIZE, True, SIZE) for i in range(groups)]
    people, _ = build(url, 2 * SIZE + 1, tuple(plans), prefix=f"{ctx.tag}_r")
    members = {"none": people[-1][1], "write": people[1][1], "read": people[SIZE + 1][1]}
    out = {"groups": groups, "members_a_group": SIZE, "polls": polls}
    log = ctx.tmp / "reader-side.sql"
    with Server(ctx, database=url, sql_log=log) as server:  # every statement logged: counted, not timed
        sql = {kind: _polls(server, token, 10, log) for kind, token in members.items()}
    with Server(ctx, database=url) as server:
        rounds = [{kind: _polls(server, token, polls) for kind, token in members.items()} for _ in range(3)]
    for kind in members:
        out[kind] = {**sql[kind], **{key: median([r[kind][key] for r in rounds]) for key in rounds[0][kind]}}
    extra = out["read"]["cpu_ms_per_poll"] - out["write"]["cpu_ms_per_poll"]
    out["read_cpu_ms_per_group_per_poll"] = round(extra / groups, 4)
    ctx.say(f"groups: an idle short poll of a member in {groups} groups: write diffusion {out['write']}, read "
            f"diffusion {out['read']}, in none {out['none']}")
    return out
