"""Figure 9: the course's group storm (issue 13; lecture 10's arithmetic, lecture 20's fix), with counter
merging off and on, side by side.

    python bench/run.py --only storm                 # the figure, about 3 minutes
    python bench/storm.py [--merge 0,500] [--seconds 60] [--batch yes|no|both] [--baseline REV ...]
                          [--server-arg=FLAG] [--json PATH]   # the levers, one storm each, side by side

A group of 500 members (users and sessions built in the database before the server starts, the group
made through the API); 50 of them connected over WebSocket in a process of their own, acknowledging as
the page does; the other 450 offline; 10 members sending together at 50 messages a second in all (the
first five as WebSocket `send` frames on their own connection, the other five over HTTP), each message
carrying its send time. For each storm:
- misses: a message a connected member did not hold, held twice, or held out of gseq order (target 0);
  a seq pushed again before its ACK arrived is dropped as the page drops it and counted apart;
- delivery latency p50/p99 from just before the send to each connected member holding it (p99 <= 250 ms);
- the server's CPU a message and cores busy (/proc, from the first send until every member holds the
  last message), its RSS at the end;
- counters: every member's GET /api/unread (per group and total) against the database's count, read from
  the database file read-only, once the load stops (rechecked until they agree, up to the merge window and
  10 s: how long the badge lagged); then BURST more messages and a SIGKILL at once (inside a merge window
  when merging is on), a restart on the same database, and the same check.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `imdemo` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baseline import checkout  # noqa: E402
from bench.clients import Http, stamp  # noqa: E402
from bench.common import RUN, Context, Server, percentiles  # noqa: E402
from bench.storm_load import Storm, build, read_only  # noqa: E402
from imdemo.config import Config  # noqa: E402

MEMBERS, CONNECTED, SENDERS, RATE = 500, 50, 10, 50.0
WINDOWS = (0, Config.unread_merge)  # --unread-merge ms of the figure's storms: off, and run.py's default
BURST = 5  # messages sent just before the SIGKILL


def prepare(ctx: Context) -> tuple[Path, list[tuple[int, str]]]:
    """Build the storm's database once (each storm runs on its own copy); return its path and the members."""
    path = ctx.tmp / "storm-template.db"
    started = time.perf_counter()
    people = build(path, MEMBERS)
    ctx.say(f"storm: {MEMBERS} users and their sessions built in the database in {time.perf_counter() - started:.1f}s")
    return path, people


def truth(url: str, gid: int) -> dict[int, tuple[int, int]]:
    """Each member's (total unread, unread in the group) by the database's own count: received messages after
    the read marker, in the group and in every 1:1 conversation."""
    db = read_only(url)
    try:
        group = dict(db.execute("SELECT m.uid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                                " AND r.other_uid = -m.gid AND r.type = 1 AND r.mid > m.read_mid)"
                                " FROM im_group_member m WHERE m.gid = ? AND m.left_mid IS NULL", (gid,)))
        total = dict(group)
        for uid, n in db.execute("SELECT ct.owner_uid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid ="
                                 " ct.owner_uid AND r.other_uid = ct.other_uid AND r.type = 1 AND r.mid > ct.read_mid)"
                                 " FROM im_msg_contact ct"):
            total[uid] = total.get(uid, 0) + n
        for uid, n in db.execute("SELECT m.uid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                                 " AND r.other_uid = -m.gid AND r.type = 1 AND r.mid > m.read_mid)"
                                 " FROM im_group_member m WHERE m.gid != ? AND m.left_mid IS NULL", (gid,)):
            total[uid] = total.get(uid, 0) + n
        return {uid: (total[uid], n) for uid, n in group.items()}
    finally:
        db.close()


def served(server: Server, people: list[tuple[int, str]], gid: int) -> dict[int, tuple[int, int]]:
    """Each member's (total, the group's unread) as GET /api/unread serves them."""
    http, counts = Http(server.port), {}
    try:
        for uid, token in people:
            http.token = token
            unread = http.ok("GET", "/api/unread")
            counts[uid] = (unread["total"], unread["groups"].get(str(gid), 0))
    finally:
        http.close()
    return counts


def wrong(server: Server, people: list[tuple[int, str]], gid: int, counts: dict) -> list[int]:
    """The members whose GET /api/unread (total, and the group's) differs from counts."""
    return [uid for uid, pair in served(server, people, gid).items() if pair != counts[uid]]


def settle(server: Server, people: list, gid: int, merge_ms: float) -> dict:
    """Check every member's counters against the database once the load has stopped (what the server serves
    first, then the database's count: it no longer changes); recheck the ones that differ until they agree
    or the merge window and 10 s have passed."""
    stopped, first = time.monotonic(), served(server, people, gid)
    counts = truth(server.database, gid)
    off = first_off = [uid for uid, pair in first.items() if pair != counts[uid]]
    deadline = stopped + merge_ms / 1000 + 10
    while off and time.monotonic() < deadline:
        time.sleep(0.02)
        off = wrong(server, [p for p in people if p[0] in off], gid, counts)
    offline = {uid for uid, _ in people[CONNECTED:]}
    return {"checked": len(people), "offline": len(offline), "wrong_at_first": len(first_off),
            "wrong": len(off), "wrong_offline": len(offline & set(off)),
            "offline_group_unread": counts[people[-1][0]][1]}


def burst_then_kill(server: Server, token: str, gid: int) -> None:
    """Send BURST messages, then SIGKILL the server at once (inside a merge window, when merging is on)."""
    http = Http(server.port, token)
    try:
        for k in range(BURST):
            http.ok("POST", f"/api/groups/{gid}/messages", {"content": stamp(), "client_msg_id": f"burst-{k}"})
    finally:
        http.close()
    server.kill()


def summary(out: dict) -> dict:
    """The load's figures: what was sent, the misses of each connected member, latency, CPU."""
    expected, http = out["expected"], out["http"]
    order = {mid: i for i, mid in enumerate(expected)}
    missing = doubled = disorder = 0
    for member in out["members"]:
        held = member["held"]
        missing += len(order.keys() - set(held))
        doubled += len(held) - len(set(held))
        disorder += sum(1 for a, b in zip(held, held[1:], strict=False) if order.get(b, -1) < order.get(a, -1))
    messages = len(expected)
    return {"messages": messages, "rate": round(messages / out["sending_seconds"], 1),
            "sent": {"http": http.sent, "http_errors": http.errors, "ws": out["ws_sent"],
                     "ws_errors": out["ws_errors"]},
            "http_request_ms": percentiles(http.request_ms), "http_request_p50_by_10s": by_10s(http),
            "misses": missing + doubled + disorder,
            "missing": missing, "doubled": doubled, "out_of_order": disorder,
            "resent_dropped": sum(m["repeats"] for m in out["members"]),
            "reconnects": sum(m["reconnects"] for m in out["members"]),
            "frames_per_member_message": round(sum(m["frames"] for m in out["members"])
                                               / max(1, messages * len(out["members"])), 3),
            "latency_ms": percentiles(out["latency"]),
            "cpu_ms": round(out["cpu_seconds"] * 1000 / max(1, messages), 2),
            "cores": round(out["cpu_seconds"] / out["elapsed"], 2)}


def by_10s(http) -> list[float | None]:
    """The HTTP send request's p50 in each 10 s of the load: whether the server falls behind as it goes."""
    pairs = list(zip(http.request_at, http.request_ms, strict=True))
    ends = int(max(http.request_at, default=0)) + 1
    return [percentiles([ms for at, ms in pairs if t <= at < t + 10])["p50"] for t in range(0, ends, 10)]


def storm(ctx: Context, template: Path, people: list, merge_ms: float, seconds: float, batch: bool = True,
          revision: str | None = None, rate: float = RATE) -> dict:
    """One storm on its own copy of the database, then the counters, the SIGKILL and the restart."""
    path = ctx.tmp / f"storm-{ctx.servers + 1}.db"
    shutil.copy(template, path)
    launch, knows_merge = launcher(ctx, revision)
    if merge_ms and not knows_merge:
        raise RuntimeError(f"{revision} has no --unread-merge")
    url, flags = f"sqlite:///{path}", (("--unread-merge", f"{merge_ms:g}") if knows_merge else ())
    label = f"merge {merge_ms:g} ms, {'batched' if batch else 'one event a'} frames" + (
        f", at {revision}" if revision else "")
    figures = {"merge_ms": merge_ms, "batch": batch, "revision": revision or "this tree", "rate_asked": rate,
               "load_average": round(os.getloadavg()[0], 2)}
    with Server(ctx, database=url, flags=flags, **launch) as server:
        ctx.say(f"storm ({label}): server pid {server.pid}; {CONNECTED} of {MEMBERS} members connected, "
                f"{SENDERS} sending {rate:g} msg/s for {seconds:g}s")
        load = Storm(server, people, CONNECTED, SENDERS, rate, batch)
        figures.update(summary(load.run(seconds)))
        figures["rss_mb"] = round(server.status()["VmRSS"] / 1024, 1)
        figures["counters"] = settle(server, people, load.gid, merge_ms)
        burst_then_kill(server, people[0][1], load.gid)
    with Server(ctx, database=url, flags=flags, **launch) as again:
        counts = truth(url, load.gid)
        figures["restart"] = {"ready_seconds": round(again.ready_seconds, 2),
                              "wrong": len(wrong(again, people, load.gid, counts))}
    figures["load_average_end"] = round(os.getloadavg()[0], 2)
    f, c = figures, figures["counters"]
    ctx.say(f"storm ({label}): {f['messages']} messages at {f['rate']} msg/s, misses {f['misses']}, delivery p50 "
            f"{f['latency_ms']['p50']} ms, p99 {f['latency_ms']['p99']} (the HTTP send's p50 by 10 s: "
            f"{f['http_request_p50_by_10s']}); {f['cpu_ms']} ms CPU a message, {f['cores']} "
            f"cores, RSS {f['rss_mb']} MB; counters wrong {c['wrong']} of {c['checked']} (at the first look "
            f"{c['wrong_at_first']}), after SIGKILL + restart {f['restart']['wrong']}")
    return figures


def launcher(ctx: Context, revision: str | None) -> tuple[dict, bool]:
    """How to start a server of revision (exported once into the temp folder), or of this tree; and whether
    it has --unread-merge (the flag is always given when it has: the default may be either)."""
    run = RUN
    if revision is not None:
        folder = ctx.tmp / f"rev-{revision.replace('/', '_').replace('^', '-parent')}"
        if not folder.exists():
            checkout(revision, folder)
        run = folder / "run.py"
    flags = subprocess.run([sys.executable, str(run), "--help"], capture_output=True, text=True).stdout
    launch = {"run": run, "register_limit": "--register-rate" in flags} if revision is not None else {}
    return launch, "--unread-merge" in flags


def run(ctx: Context) -> dict:
    if not ctx.embedded_sqlite:
        return {"skipped": "the storm's database is built with sqlite3: run without --database"}
    template, people = prepare(ctx)
    seconds = ctx.scale(60.0, 6.0)
    results = {"members": MEMBERS, "connected": CONNECTED, "senders": SENDERS, "rate": RATE, "seconds": seconds,
               "storms": [storm(ctx, template, people, ms, seconds) for ms in WINDOWS]}
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/storm.py", description="The storm's levers, side by side.")
    parser.add_argument("--merge", default="0,500", help="--unread-merge windows in ms, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=RATE, help="messages a second from the senders in all")
    parser.add_argument("--batch", choices=["yes", "no", "both"], default="yes",
                        help="whether the connected members ask for batched frames at hello")
    parser.add_argument("--baseline", action="append", default=[], metavar="REV",
                        help="also run each storm on revision REV (exported with git archive); repeatable")
    parser.add_argument("--only-baseline", action="store_true", help="run the revisions only, not this tree")
    parser.add_argument("--server-arg", action="append", default=[])
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    windows = [float(w) for w in args.merge.split(",")]
    batches = {"yes": [True], "no": [False], "both": [True, False]}[args.batch]
    revisions = ([] if args.only_baseline else [None]) + args.baseline
    with tempfile.TemporaryDirectory(prefix="imdemo-storm-") as tmp:
        ctx = Context(False, None, None, Path(tmp), "s" + secrets.token_hex(3), tuple(args.server_arg))
        template, people = prepare(ctx)
        storms = [storm(ctx, template, people, ms, args.seconds, batch, rev, args.rate)
                  for rev in revisions for batch in batches for ms in windows]
    from bench.report import storm_rows, table
    print("\n" + table(storm_rows({"storms": storms, "rate": args.rate})))
    if args.json:
        Path(args.json).write_text(json.dumps({"argv": argv, "storms": storms}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
