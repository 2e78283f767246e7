"""Figure 9: the course's group storm (issue 13; lecture 10's arithmetic, lecture 20's fix), with counter
merging off and on, side by side; and its large form (issue 22, `storm_large.py`): 10,000 members by read
diffusion.

    python bench/run.py --only storm                 # the figure, about 3 minutes
    python bench/run.py --only storm-large           # 10,000 members: 50 online, then 500 online
    python bench/storm.py [--members N] [--online K] [--large] [--merge 0,500] [--seconds 60] [--rate 50]
                          [--batch yes|no|both] [--baseline REV ...] [--server-arg=FLAG] [--json PATH]

A group of --members (500; users and sessions built in the database before the server starts, crowd.py; a
small group made through the API by its first member, a large one, --large, built there too); --online of them
connected over WebSocket in processes of their own, acknowledging as the page does (storm_member.py); the
others offline; 10 members sending together at --rate messages a second in all (the first five as WebSocket
`send` frames on their own connection, the other five over HTTP), each message carrying its send time. For
each storm:
- misses: a message a connected member did not hold, held twice, or held out of gseq order (target 0);
  an event pushed again before its ACK arrived is dropped as the page drops it and counted apart;
- delivery latency p50/p99 from just before the send to each connected member holding it;
- the server's CPU a message and cores busy (/proc, from the first send until every member holds the
  last message), its RSS at the end;
- counters: every online member's and up to --sample offline members' GET /api/unread (per group and total)
  against the database's count (storm_counts.py) once the load stops (rechecked until they agree, up to the
  merge window and 10 s: how long the badge lagged); then BURST more messages and a SIGKILL at once (inside a
  merge window when merging is on), a restart on the same database, the same check, and every message the
  server acknowledged (a 201, a `sent` frame) in the database.
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
from dataclasses import asdict, dataclass, replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `imdemo` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baseline import checkout  # noqa: E402
from bench.clients import Http, stamp  # noqa: E402
from bench.common import ROOT, RUN, Context, Server, percentiles  # noqa: E402
from bench.crowd import GroupPlan, build  # noqa: E402
from bench.storm_counts import checked, missing_acknowledged, settle, truth, wrong  # noqa: E402
from bench.storm_load import Storm  # noqa: E402
from imdemo.config import Config  # noqa: E402

MEMBERS, CONNECTED, SENDERS, RATE = 500, 50, 10, 50.0
WINDOWS = (0, Config.unread_merge)  # --unread-merge ms of the figure's storms: off, and run.py's default
BURST = 5  # messages sent just before the SIGKILL
LEVERS = ROOT / "bench" / "serve_levers.py"


@dataclass(frozen=True)
class Load:
    """One storm's shape."""

    members: int = MEMBERS
    online: int = CONNECTED
    large: bool = False  # the group by read diffusion (built before the server starts)
    merge_ms: float = 0.0
    seconds: float = 60.0
    rate: float = RATE
    batch: bool = True
    revision: str | None = None
    sample: int | None = None  # offline members whose counters are checked (None: all of them)
    levers: str | None = None  # server levers patched in at start-up (serve_levers.py), e.g. "ack_index"
    ack_every: float = 0.0  # ms between a member's ACKs (0: as the page does, storm_member.py)

    def label(self) -> str:
        extra = [f"at {self.revision}"] if self.revision else []
        extra += [f"levers {self.levers}"] if self.levers else []
        extra += [f"ACK every {self.ack_every:g} ms"] if self.ack_every else []
        return ", ".join([f"{self.members} members{' (read diffusion)' if self.large else ''}",
                          f"{self.online} online", f"merge {self.merge_ms:g} ms",
                          f"{'batched' if self.batch else 'one event a'} frames", *extra])


def prepare(ctx: Context, members: int, large: bool) -> tuple[Path, list[tuple[int, str]], int | None]:
    """Build the storm's database once (each storm runs on its own copy); return its path, the members and the
    group built with them (None: a small group, made through the API by each storm)."""
    path = ctx.tmp / f"storm-template-{members}{'-large' if large else ''}.db"
    started = time.perf_counter()
    plans = (GroupPlan("storm", members, True),) if large else ()
    people, gids = build(f"sqlite:///{path}", members, plans, prefix=f"{ctx.tag}_s")
    ctx.say(f"storm: {members} users, their sessions{' and the large group' if large else ''} built in the "
            f"database in {time.perf_counter() - started:.1f}s")
    return path, people, (gids[0] if gids else None)


def burst_then_kill(server: Server, token: str, gid: int) -> list[str]:
    """Send BURST messages, then SIGKILL the server at once (inside a merge window, when merging is on); return
    the client_msg_ids it acknowledged."""
    http, acknowledged = Http(server.port, token), []
    try:
        for k in range(BURST):
            http.ok("POST", f"/api/groups/{gid}/messages", {"content": stamp(), "client_msg_id": f"burst-{k}"})
            acknowledged.append(f"burst-{k}")
    finally:
        http.close()
    server.kill()
    return acknowledged


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
            "gaps": sum(m.get("gaps", 0) for m in out["members"]),
            "frames_per_member_message": round(sum(m["frames"] for m in out["members"])
                                               / max(1, messages * len(out["members"])), 3),
            "latency_ms": percentiles(out["latency"]),
            "cpu_ms": round(out["cpu_seconds"] * 1000 / max(1, messages), 2),
            "cores": round(out["cpu_seconds"] / out["elapsed"], 2),
            # the connected members' processes share the machine with the server: what they took, for scale
            "clients": {"processes": out["client_processes"],
                        "cores": round(out["clients_cpu_seconds"] / out["elapsed"], 2),
                        "cpu_us_a_delivery": round(out["clients_cpu_seconds"] * 1e6 / max(1, len(out["latency"])), 1)}}


def by_10s(http) -> list[float | None]:
    """The HTTP send request's p50 in each 10 s of the load: whether the server falls behind as it goes."""
    pairs = list(zip(http.request_at, http.request_ms, strict=True))
    ends = int(max(http.request_at, default=0)) + 1
    return [percentiles([ms for at, ms in pairs if t <= at < t + 10])["p50"] for t in range(0, ends, 10)]


def storm(ctx: Context, template: Path, people: list, gid: int | None, load: Load) -> dict:
    """One storm on its own copy of the database, then the counters, the SIGKILL and the restart."""
    path = ctx.tmp / f"storm-{ctx.servers + 1}.db"
    shutil.copy(template, path)
    launch, known = launcher(ctx, load.revision, load.levers)
    if load.merge_ms and "--unread-merge" not in known:
        raise RuntimeError(f"{load.revision} has no --unread-merge")
    url = f"sqlite:///{path}"  # a small group stays small (made with more than --large-group-at, it would not)
    flags = (("--unread-merge", f"{load.merge_ms:g}") if "--unread-merge" in known else ()) + (
        ("--large-group-at", str(load.members)) if "--large-group-at" in known and not load.large else ())
    figures = {**asdict(load), "revision": load.revision or "this tree", "load_average": round(os.getloadavg()[0], 2)}
    people_checked = checked(people, load.online, load.sample)
    with Server(ctx, database=url, flags=flags, **launch) as server:
        ctx.say(f"storm ({load.label()}): server pid {server.pid}; {SENDERS} sending {load.rate:g} msg/s for "
                f"{load.seconds:g}s")
        run = Storm(server, people, load.online, SENDERS, load.rate, load.batch, gid, load.ack_every / 1000)
        out = run.run(load.seconds)
        figures.update(summary(out))
        figures["rss_mb"] = round(server.status()["VmRSS"] / 1024, 1)
        figures["counters"] = settle(server, people_checked, load.online, run.gid, load.merge_ms)
        acknowledged = out["acknowledged"] + burst_then_kill(server, people[0][1], run.gid)
    with Server(ctx, database=url, flags=flags, **launch) as again:
        counts = truth(url, run.gid, [uid for uid, _ in people_checked])
        figures["restart"] = {"ready_seconds": round(again.ready_seconds, 2),
                              "wrong": len(wrong(again, people_checked, run.gid, counts)),
                              "acknowledged": len(acknowledged),
                              "acknowledged_missing": missing_acknowledged(url, acknowledged)}
    figures["load_average_end"] = round(os.getloadavg()[0], 2)
    say(ctx, load, figures)
    return figures


def say(ctx: Context, load: Load, f: dict) -> None:
    c, r = f["counters"], f["restart"]
    ctx.say(f"storm ({load.label()}): {f['messages']} messages at {f['rate']} msg/s, misses {f['misses']}, delivery "
            f"p50 {f['latency_ms']['p50']} ms, p99 {f['latency_ms']['p99']} (the HTTP send's p50 by 10 s: "
            f"{f['http_request_p50_by_10s']}); {f['cpu_ms']} ms CPU a message, {f['cores']} cores, RSS "
            f"{f['rss_mb']} MB; counters wrong {c['wrong']} of {c['checked']} (at the first look "
            f"{c['wrong_at_first']}), after SIGKILL + restart {r['wrong']}, acknowledged messages missing "
            f"{r['acknowledged_missing']} of {r['acknowledged']}")


def launcher(ctx: Context, revision: str | None, levers: str | None = None) -> tuple[dict, str]:
    """How to start a server of revision (exported once into the temp folder), or of this tree (with levers:
    through serve_levers.py); and its --help (which flags it knows: they are given whenever it has them, as the
    defaults may be either)."""
    run = RUN
    if revision is not None:
        folder = ctx.tmp / f"rev-{revision.replace('/', '_').replace('^', '-parent')}"
        if not folder.exists():
            checkout(revision, folder)
        run = folder / "run.py"
    flags = subprocess.run([sys.executable, str(run), "--help"], capture_output=True, text=True).stdout
    launch = {"run": run, "register_limit": "--register-rate" in flags} if revision is not None else {}
    if levers:
        launch = {"run": LEVERS, "run_args": (levers,)}
    return launch, flags


def storms(ctx: Context, loads: list[Load]) -> list[dict]:
    """Run each load, building each shape's database once."""
    built, out = {}, []
    for load in loads:
        shape = (load.members, load.large)
        if shape not in built:
            built[shape] = prepare(ctx, *shape)
        out.append(storm(ctx, *built[shape], load))
    return out


def run(ctx: Context) -> dict:
    if not ctx.embedded_sqlite:
        return {"skipped": "the storm's database is read with sqlite3: run without --database"}
    seconds = ctx.scale(60.0, 6.0)
    return {"members": MEMBERS, "connected": CONNECTED, "senders": SENDERS, "rate": RATE, "seconds": seconds,
            "storms": storms(ctx, [Load(merge_ms=ms, seconds=seconds) for ms in WINDOWS])}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/storm.py", description="The storm's levers, side by side.")
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--online", type=int, default=CONNECTED, help="members connected over WebSocket")
    parser.add_argument("--large", action="store_true", help="the group by read diffusion (SPEC 15)")
    parser.add_argument("--sample", type=int, help="offline members whose counters are checked (default all)")
    parser.add_argument("--merge", default="0,500", help="--unread-merge windows in ms, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=RATE, help="messages a second from the senders in all")
    parser.add_argument("--batch", choices=["yes", "no", "both"], default="yes",
                        help="whether the connected members ask for batched frames at hello")
    parser.add_argument("--baseline", action="append", default=[], metavar="REV",
                        help="also run each storm on revision REV (exported with git archive); repeatable")
    parser.add_argument("--only-baseline", action="store_true", help="run the revisions only, not this tree")
    parser.add_argument("--levers", default="", metavar="SET|SET...",
                        help="storms side by side, each with a set of serve_levers.py's levers (none, ack_index,"
                             " skip_follow, coalesce_MS; comma-joined), separated by |")
    parser.add_argument("--ack-every", default="0", metavar="MS[,MS...]",
                        help="ms between a connected member's ACKs, side by side (0: as the page does)")
    parser.add_argument("--rounds", type=int, default=1, help="run every storm this many times, in turns")
    parser.add_argument("--server-arg", action="append", default=[])
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    base = Load(args.members, args.online, args.large, seconds=args.seconds, rate=args.rate, sample=args.sample)
    batches = {"yes": [True], "no": [False], "both": [True, False]}[args.batch]
    revisions = ([] if args.only_baseline else [None]) + args.baseline
    levers = [None if not x or x == "none" else x for x in args.levers.split("|")]
    loads = [replace(base, merge_ms=float(ms), batch=batch, revision=rev, levers=lever, ack_every=float(every))
             for _ in range(args.rounds) for rev in revisions for batch in batches for ms in args.merge.split(",")
             for lever in levers for every in args.ack_every.split(",")]
    with tempfile.TemporaryDirectory(prefix="imdemo-storm-") as tmp:
        ctx = Context(False, None, None, Path(tmp), "s" + secrets.token_hex(3), tuple(args.server_arg))
        results = storms(ctx, loads)
    from bench.report import storm_rows, table
    print("\n" + table(storm_rows({"storms": results, "rate": args.rate})))
    if args.json:
        Path(args.json).write_text(json.dumps({"argv": argv, "storms": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
