"""Optional: profile the server under one load with py-spy (`pip install py-spy`), and print where it spends
the GIL, by function: its own time and its inclusive time.

    python bench/profile.py [http|ws|noop|pairs|loop|group|storm] [--seconds 10] [--clients 8] [--members 500]
                            [--timed [--windows N]] [--server-arg=--no-inspect]

http, ws, noop: the send figure's closed-loop clients; pairs: the latency figure's background load (8 pairs
sending 20 msg/s each over HTTP, receiving and acknowledging over WebSocket); loop: bench/loop.py's 1:1 loop
(--clients pairs over WebSocket, each message waiting for its delivered receipt before the next); group: the
groups figure's load on one group of --members (one sender over HTTP, one message in flight, one member
connected over WebSocket and acknowledging, the others offline); storm: bench/storm.py's load (a group of
--members, 50 connected with batched frames, 10 members sending 50 messages a second in all, over HTTP and
WebSocket; merging as --server-arg=--unread-merge=MS says).

py-spy samples only the thread holding the GIL (--gil): in a server bound to one core by the GIL that is
the time that limits throughput. After the functions, the samples are split into the parts of a send
(PARTS). Work done without the GIL (SQLite's own, inside sqlite3) is not in those samples: --timed runs the
server through bench/serve_timed.py instead, which adds up the thread CPU time of each part (the SQL, the
unread Lua step, the notice's JSON + PUBLISH, its dispatch) in ms a message; with --windows N (group load),
also per window as the relation table grows. bench/run.py never needs
py-spy; this is for finding out why.
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playhouse.db_url import connect

if __package__ in (None, ""):  # run as a script: make `bench` and `imdemo` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fanout, groups, latency, loop, send, serve_timed, storm, storm_load  # noqa: E402
from bench.clients import Http, accounts  # noqa: E402
from bench.common import Context, Server, percentiles  # noqa: E402
from bench.crowd import GroupPlan, build  # noqa: E402

# The parts of a send, each named by the frames that mark it; a sample goes to the first part any of its
# frames matches, so SQL run inside any step counts as SQL, and fakeredis inside the unread step as that step.
TIMED = Path(__file__).resolve().parent / "serve_timed.py"
PARTS = [
    ("SQL (Peewee, sqlite3; the write's PRAGMA cache_size)", ("peewee.py", "playhouse/",
                                                             "_cache (imdemo/store/database.py")),
    ("unread counters: the Lua step", ("on_messages (imdemo/store/counters.py",)),
    ("the ACK's acked seq (SET ... GET)", ("advance_acked (imdemo/store/counters.py",)),
    ("notice: JSON + PUBLISH", ("publish_many (imdemo/store/notices.py",)),
    ("large group: its counters' Lua step (N, Q, the senders' L)", ("committed (imdemo/store/large_counters.py",)),
    # a large group's message on the event loop: written to every caught-up connection at once, the rest woken
    ("large group: fan-out to the connections (event loop)", ("GroupFanout._flush (imdemo/api/ws_fanout.py",)),
    ("notice: dispatch to local listeners", ("_dispatch (imdemo/store/notices.py",)),
    ("notice: the listener thread's read (get_message)", ("_run (imdemo/store/notices.py",)),
    ("notice: building it (announce)", ("committed (imdemo/store/announce.py",)),
    # before the WebSocket's marks: a send that came in a WebSocket frame runs the commit under them too
    ("the commit's own Python (seqs, rows, outcomes)", ("imdemo/store/commit.py", "imdemo/store/rows.py",
                                                        "imdemo/store/writer.py", "imdemo/store/commit_queue.py",
                                                        "imdemo/store/direct.py", "imdemo/store/groups.py")),
    ("the delivered mark's own Python (acknowledge_pushed)", ("acknowledge_pushed (imdemo/services/sync.py",)),
    ("session check (authenticate)", ("authenticate (imdemo/services/auth.py",)),
    ("the send service's own Python (checks, views)", ("send (imdemo/services/messages.py",)),
    ("other store calls (sessions, seq cache)", ("fakeredis/", "redis/", "lupa")),
    ("the inspector's wrappers (tracing off)", ("imdemo/store/trace.py", "_traced (imdemo/api/ws_server.py",
                                                "imdemo/services/inspect.py")),
    # the pool's side (its worker, futures, call_soon_threadsafe) and the event loop's (submit, the self-pipe,
    # the future copied back): after every part a pooled call runs, before the WebSocket's, which calls them
    ("thread hand-offs (executor, futures, call_soon_threadsafe)", (
        "concurrent/futures/", "call_soon_threadsafe", "run_in_executor", "_read_from_self", "_write_to_self",
        "_call_set_state", "_copy_future_state", "_chain_future", "wrap_future")),
    # the per-connection part of a push: its JSON, the write (websockets' framing, the socket), the ACKs
    ("WebSocket push: the event's JSON, per connection", ("send (imdemo/api/ws_session.py:93", "json/encoder.py")),
    ("WebSocket push: the write (websockets, the socket)", ("send (websockets/asyncio/connection.py",
                                                           "write (asyncio/selector_events.py")),
    ("WebSocket ACK by group (parse, pending)", ("_ack_group (imdemo/api/ws_session.py",
                                                 "ack_group (imdemo/api/ws_pending.py")),
    ("WebSocket frames in (parse, websockets' reading)", ("ws_frames.py", "data_received (websockets/",
                                                          "recv_events (websockets/", "parse (websockets/")),
    # not ws_server.py's _serve: the event loop thread's root frame, under which asyncio's own time is too
    ("WebSocket push + ACK, the rest", ("imdemo/api/ws_session.py", "imdemo/api/ws_frames.py", "websockets/",
                              "run_blocking (imdemo/api/ws_server.py", "_converse (imdemo/api/ws_server.py")),
    ("asyncio's own (the event loop, tasks, selector)", ("asyncio/", "selectors.py")),
    ("HTTP (cheroot, Bottle) and the route", ("cheroot/", "bottle.py", "imdemo/api/")),
]


def top(raw: Path, count: int) -> str:
    """Summarise py-spy's collapsed stacks: the functions with the most samples, own and inclusive (a function's
    lines added up: "eval (fakeredis/commands_mixins/scripting_mixin.py)")."""
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames, n = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")], int(n)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples with the GIL held", "-- own time"]
    lines += [f"{n / total:6.1%}  {f}" for f, n in own.most_common(count)]
    lines += ["-- inclusive time"] + [f"{n / total:6.1%}  {f}" for f, n in inclusive.most_common(2 * count)]
    return "\n".join(lines)


def parts(raw: Path) -> str:
    """Split the samples into PARTS."""
    shares, total = collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        total += int(n)
        shares[next((name for name, marks in PARTS if any(m in stack for m in marks)), "other")] += int(n)
    return "\n".join(["-- by part of the send"] + [f"{n / total:6.1%}  {name}" for name, n in shares.most_common()])


class Spy:
    """py-spy recording the server while the window runs; reports the functions and the parts of a send."""

    def __init__(self, raw: Path, args):
        self.raw, self.args = raw, args

    def start(self, pid: int) -> None:
        a = self.args
        self.proc = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate",
                                      str(a.rate), "--duration", str(int(a.seconds)), "--format", "raw", "--output",
                                      str(self.raw)], stderr=subprocess.DEVNULL)

    def report(self, pid: int, messages: int, cpu_ms: float) -> str:
        self.proc.wait()
        if self.args.stacks:
            shutil.copy(self.raw, self.args.stacks)
        return top(self.raw, 30) + "\n" + parts(self.raw)


def _group(ctx: Context, server: Server, probe, args) -> dict:
    """Profile one group of --members (built with the database, write or --large read diffusion): one sender,
    one message in flight, one member connected."""
    sender = Http(server.port, args.people[0][1])
    mp = multiprocessing.get_context("spawn")
    pipe, child = mp.Pipe()
    proc = mp.Process(target=latency.receiver_main, args=("websocket", server.port, server.ws_port,
                                                          args.people[1][1], 0.0, child))
    proc.start()
    try:
        if not pipe.poll(60) or pipe.recv() != "ready":
            raise RuntimeError("the receiver did not start")
        time.sleep(0.3)
        probe.start(server.pid)
        cpu, started, sent, samples = server.cpu_seconds(), time.monotonic(), 0, []
        for _ in range(args.windows):
            window = groups._send(sender, args.gid, pipe, 10**6, args.seconds / args.windows)
            sent, samples = sent + window[0], samples + window[1]
            if args.windows > 1:  # what each part costs as the relation table grows
                _window_line(probe, server, window[0], sent)
        cpu, elapsed = server.cpu_seconds() - cpu, time.monotonic() - started
    finally:
        proc.terminate()
        proc.join()
        sender.close()
    return {"rate": round(sent / elapsed, 1), "cpu_ms": round(cpu * 1000 / sent, 2), "cores": round(cpu / elapsed, 2),
            "latency_p50_ms": percentiles(samples)["p50"], "messages": sent}


def _storm(ctx: Context, server: Server, probe, args) -> dict:
    """Profile the storm's load (bench/storm.py) on the group of the database main() built (--online members
    connected; a small group is made through the API, a --large one was built with the database)."""
    load = storm_load.Storm(server, args.people, args.online, storm.SENDERS, storm.RATE, gid=args.gid)
    figures = storm.summary(load.run(args.seconds, on_start=lambda: probe.start(server.pid)))
    print(f"storm: misses {figures['misses']}, delivery p50 {figures['latency_ms']['p50']} ms, p99 "
          f"{figures['latency_ms']['p99']} ms, {figures['messages']} messages at {figures['rate']} msg/s, "
          f"{figures['frames_per_member_message']} frames a member a message", flush=True)
    return {**{k: figures[k] for k in ("rate", "cpu_ms", "cores", "messages")},
            "latency_p50_ms": figures["latency_ms"]["p50"]}


def _fanout(ctx: Context, server: Server, probe, args) -> dict:
    """Profile bench/fanout.py's load: a large group's message, one in flight, to --online connections."""
    measured = fanout.run_on(server, args.people, args.gid, args.online, args.messages,
                             on_start=lambda: probe.start(server.pid))
    print(f"fanout: {measured['us_a_connection']} us a connection, delivery to all p50 "
          f"{measured['delivery_to_all_ms']['p50']} ms, {measured['frames_a_member_message']} frames a member a "
          f"message", flush=True)
    return measured


def _loop(ctx: Context, server: Server, probe, args) -> dict:
    """Profile bench/loop.py's load: --clients pairs, each sending 1:1 over WebSocket and waiting for the
    receiver's ACK to come back as a delivered receipt; a second's warm-up first, as the figure has."""
    users = accounts(server.port, [f"{ctx.tag}_p{i}" for i in range(2 * args.clients)])
    pairs = list(zip(users[:args.clients], users[args.clients:], strict=True))
    with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
        pool.map(time.sleep, [0.0] * args.clients)
        since = loop._measure(pool, server, pairs, [(0, 0)] * args.clients, 1.0)["since"]
        measured = loop._measure(pool, server, pairs, since, args.seconds, on_start=lambda: probe.start(server.pid))
    print(f"loop: round trip p50 {measured['rtt_p50_ms']} ms, p99 {measured['rtt_p99_ms']} ms; errors "
          f"{measured['errors']}, missing {measured['missing']}, repeats {measured['repeats']}; load average "
          f"{measured['load_average']}", flush=True)
    return measured


def _window_line(probe, server: Server, messages: int, sent: int) -> None:
    db = connect(server.database)
    try:
        relation = db.execute_sql("SELECT COUNT(*) FROM im_msg_relation").fetchone()[0]
    finally:
        db.close()
    parts = ", ".join(f"{name} {ms:.2f}" for name, ms in probe.by_part(probe.window(server.pid, messages)).items())
    print(f"  {sent:5} messages, {relation:8,} relation rows: ms a message over the last {messages}: {parts}",
          flush=True)


def _clients(ctx: Context, server: Server, probe, args) -> dict:
    """Profile the send figure's clients (http, ws, noop) or the latency figure's pairs."""
    users = accounts(server.port, [f"{ctx.tag}_u{i}" for i in range(2 * args.clients)])
    n = args.clients
    pairs = [(token, to) for (_, token), (to, _) in zip(users[:n], users[n:], strict=True)]
    argsets = {"noop": [(server.port,)] * args.clients,
               "http": [(server.port, token, to) for token, to in pairs],
               "ws": [(server.ws_port, token, to, 0) for token, to in pairs]}
    worker = {"noop": send.noop_worker, "http": send.http_worker, "ws": send.ws_worker}.get(args.load)
    mp = multiprocessing.get_context("spawn")
    with mp.Pool(args.clients) as pool:
        pool.map(time.sleep, [0.0] * args.clients)
        probe.start(server.pid)
        if worker is not None:
            measured = send._measure(pool, server, worker, argsets[args.load], args.seconds)
            measured["messages"] = sum(r[0] for r in measured.pop("results"))
        else:
            measured = _pairs(mp, server, users, args.seconds)
    return measured


def _pairs(mp, server: Server, users: list, seconds: float) -> dict:
    """Run the latency figure's background pairs for seconds; return their rate and the server's CPU."""
    pairs = [(users[2 * i][1], users[2 * i + 1][0], users[2 * i + 1][1]) for i in range(len(users) // 2)]
    stop, (report, child) = mp.Event(), mp.Pipe()
    load = mp.Process(target=latency.load_main, args=(server.port, server.ws_port, pairs, stop, child))
    cpu = server.cpu_seconds()
    load.start()
    time.sleep(seconds)
    stop.set()
    sent, elapsed = report.recv()
    load.join(10)
    cpu = server.cpu_seconds() - cpu
    return {"rate": round(sent / elapsed, 1), "cpu_ms": round(cpu * 1000 / max(1, sent), 3),
            "cores": round(cpu / elapsed, 2), "messages": sent}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/profile.py")
    parser.add_argument("load", choices=["http", "ws", "noop", "pairs", "loop", "group", "storm", "fanout"],
                        nargs="?", default="http")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=send.CLIENTS)
    parser.add_argument("--members", type=int, default=500, help="the group's size (group and storm loads)")
    parser.add_argument("--large", action="store_true", help="group and storm: the group by read diffusion")
    parser.add_argument("--online", type=int, default=storm.CONNECTED, help="storm, fanout: members connected")
    parser.add_argument("--messages", type=int, default=300, help="fanout: messages, one in flight")
    parser.add_argument("--levers", help="start the server through serve_levers.py with these levers")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--stacks", metavar="PATH", help="also keep py-spy's collapsed stacks (for a flame graph)")
    parser.add_argument("--timed", action="store_true", help="no py-spy: the server adds up each part's CPU time")
    parser.add_argument("--windows", type=int, default=1,
                        help="group --timed: also print each part's cost in this many windows of the run")
    parser.add_argument("--server-arg", action="append", default=[])
    parser.add_argument("--redis", metavar="URL", help="a real Redis instead of the embedded store")
    args = parser.parse_args(argv)
    if args.windows > 1 and not (args.timed and args.load == "group"):
        parser.error("--windows is for the group load with --timed")
    if not args.timed and shutil.which("py-spy") is None:
        print("bench/profile.py needs py-spy (pip install py-spy), or --timed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="imdemo-profile-") as tmp:
        ctx = Context(False, None, args.redis, Path(tmp), "p" + secrets.token_hex(3), tuple(args.server_arg))
        out = Path(tmp) / ("timings.json" if args.timed else "stacks.txt")
        probe = serve_timed.Timings(out) if args.timed else Spy(out, args)
        launch = {"run": TIMED, "run_args": (str(out),)} if args.timed else {}
        if args.load == "fanout":
            args.large = True
        if args.levers and args.timed:  # serve_timed.py applies them before its wrappers
            os.environ["BENCH_LEVERS"] = args.levers
        elif args.levers:
            launch = {"run": storm.LEVERS, "run_args": (args.levers,)}
        if args.load in ("group", "storm", "fanout"):  # users and sessions are in the database before the server
            plans = (GroupPlan("profile", args.members, args.large),) if args.large or args.load == "group" else ()
            args.people, gids = build(f"sqlite:///{Path(tmp) / 'crowd.db'}", args.members, plans, prefix="p")
            args.gid = gids[0] if gids else None
            launch["database"] = f"sqlite:///{Path(tmp) / 'crowd.db'}"
            launch["flags"] = ("--large-group-at", str(args.members))  # stored as built
        with Server(ctx, **launch) as server:
            measured = {"group": _group, "storm": _storm, "loop": _loop, "fanout": _fanout}.get(
                args.load, _clients)(ctx, server, probe, args)
            report = probe.report(server.pid, measured["messages"], measured["cpu_ms"])
        what = (f"one group of {args.members}" if args.load in ("group", "storm", "fanout")
                else f"{args.clients} clients")
        what = f"{args.clients} pairs" if args.load == "loop" else what
        how = "its parts timed in the server" if args.timed else "py-spy sampling the GIL holder"
        print(f"{args.load}: {measured['rate']}/s with {what}, {how}; server CPU {measured['cpu_ms']} ms per "
              f"request, {measured['cores']} cores busy"
              + (f"; delivery p50 {measured['latency_p50_ms']} ms" if "latency_p50_ms" in measured else "") + "\n")
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
