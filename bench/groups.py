"""Figure 8: what one group message costs by group size, by write diffusion (a row per member) and by read
diffusion (one row in the group's own timeline, SPEC 15) side by side, the crossover between them, and the
1:1 send against the version before groups.

Every group is built in the database before the server starts (bench/crowd.py: 10,000 users in seconds, the
groups through GroupService.create, each of the first N users, write or read diffusion as asked). One sender
(every group's owner) posts to each group over HTTP (POST /api/groups/<gid>/messages), one message in flight:
the next is sent when the connected member (a receiver process on a WebSocket, acknowledging each message at
once: by seq, or a large group's event by group and gseq) holds the previous one, so each message is a group
commit of its own. The other members are offline. The groups are measured in turns (every size of both kinds, then
again), so the machine's noise falls on every one.

- server CPU per message: /proc/<pid>/stat over each timed turn, divided by its messages (the send, the
  push to the one connected member and its ACK included);
- rows written per message: after the timed turns, a few more messages, each with a snapshot of the
  database before and after it (bench/rows.py), so a row that every message updates counts every time;
- bytes published per message: the embedded store is inside the server's process, so a second pass runs the
  same server on the same database against a real redis-server (started here, or --redis) and a subscriber
  of the notices channel counts every PUBLISH and its bytes (published.py). The payload is built by the same
  code whatever the store, so these are the bytes the embedded store passes in process too;
- delivery latency, from just before the send request to the connected member parsing the event;
- the reader's side (reader_side.py): an idle short poll of a member in 50 groups of each storage, its SQL
  statements and the server's CPU, as read diffusion gives each large group a cursor of its own.

The servers run with `--unread-merge 0`, so each message's unread changes are counted in its own commit: the
figure is what one message costs. Merging them over a window (run.py's default) is the storm's figure
(bench/storm.py), where many messages share a window. They run with `--large-group-at` the largest size, so
a group is stored by read diffusion only where it was made so.
"""
from __future__ import annotations

import multiprocessing
import os
import time

from . import baseline, latency, reader_side
from .clients import Http, stamp
from .common import Context, Server, cpu_seconds, median, percentiles
from .crossover import crossover
from .crowd import GroupPlan, build
from .published import Subscriber, published_pass
from .rows import RowCounter

KINDS = ("write", "read")  # im_group.storage: a row per member, or one row in the group's own timeline
SIZES = {"write": (2, 10, 50, 100, 200, 500, 2000, 10_000), "read": (2, 10, 50, 100, 200, 500, 2000, 10_000)}
QUICK_SIZES = {"write": (2, 50, 500), "read": (50, 500)}
UNMERGED = ("--unread-merge", "0")  # every message counted in its own commit: the cost of one message


def sizes(ctx: Context) -> dict[str, tuple[int, ...]]:
    return ctx.scale(SIZES, QUICK_SIZES)


def plans(ctx: Context) -> list[tuple[str, int]]:
    """(kind, members) of every group of the figure, in the order they are measured in a turn."""
    return [(kind, n) for kind in KINDS for n in sizes(ctx)[kind]]


def make_crowd(ctx: Context) -> tuple[str, tuple[str, str], dict[tuple[str, int], int]]:
    """Build the users and the groups before the server starts; return (database URL, (sender token, receiver
    token), {(kind, members): gid})."""
    url = ctx.database or f"sqlite:///{ctx.tmp / 'groups.db'}"
    groups = plans(ctx)
    most = max(n for _, n in groups)
    started = time.perf_counter()
    people, gids = build(url, most, tuple(GroupPlan(f"{kind} {n}", n, kind == "read") for kind, n in groups),
                         prefix=f"{ctx.tag}_g")
    ctx.say(f"groups: {most} users and {len(groups)} groups built in the database in "
            f"{time.perf_counter() - started:.1f}s")
    return url, (people[0][1], people[1][1]), dict(zip(groups, gids, strict=True))


def _send(sender: Http, gid: int, pipe, count: int, seconds: float) -> tuple[int, list[float], list[float], int]:
    """Send up to count messages to gid for up to seconds, each after the last one reached the receiver;
    return (sent, delivery latencies in ms, send request round trips in ms, messages the receiver did not
    report within 10 s)."""
    sent, samples, posts, missed, end = 0, [], [], 0, time.monotonic() + seconds
    while sent < count and (sent == 0 or time.monotonic() < end):
        posted = time.perf_counter()
        sender.ok("POST", f"/api/groups/{gid}/messages", {"content": stamp(), "client_msg_id": f"g-{time.time_ns()}"})
        posts.append((time.perf_counter() - posted) * 1000)
        sent += 1
        if pipe.poll(10):
            samples.append(pipe.recv())
        else:
            missed += 1
    while pipe.poll(0.2):  # a late one, so it is not taken for the next message's
        samples.append(pipe.recv())
    return sent, samples, posts, missed


class Turns:
    """The figures of one server: timed turns over the groups, then the rows of a few messages."""

    def __init__(self, server: Server, tokens: tuple[str, str], watch: Subscriber | None = None,
                 redis_pid: int | None = None):
        self.server, self.tokens, self.watch, self.redis_pid = server, tokens, watch, redis_pid
        self.acc: dict[tuple[str, int], dict] = {}

    def run(self, gids: dict[tuple[str, int], int], rounds: int, seconds: float, count: int,
            counted: int) -> dict[str, dict[int, dict]]:
        """Send to every group in turns (rounds x groups), then count the rows of `counted` messages a group;
        return {kind: {members: figures}}."""
        self.acc = {g: {"cpu_ms": [], "redis_cpu_ms": [], "latency": [], "posts": [], "sent": 0, "missed": 0,
                        "written": {}, "counted": 0, "published": 0, "bytes": 0} for g in gids}
        mp = multiprocessing.get_context("spawn")
        pipe, child = mp.Pipe()
        receiver = mp.Process(target=latency.receiver_main,
                              args=("websocket", self.server.port, self.server.ws_port, self.tokens[1], 0.0, child))
        receiver.start()
        sender = Http(self.server.port, self.tokens[0])
        try:
            if not pipe.poll(60) or pipe.recv() != "ready":
                raise RuntimeError("the receiver did not start")
            time.sleep(0.3)  # its hello is under way
            for _ in range(rounds):
                for g, gid in gids.items():
                    self._timed(g, sender, gid, pipe, count, seconds)
            for g, gid in gids.items() if counted else ():
                self._rows(g, sender, gid, pipe, counted)
        finally:
            receiver.terminate()
            receiver.join()
            sender.close()
        figures: dict[str, dict[int, dict]] = {}
        for (kind, n), acc in self.acc.items():
            figures.setdefault(kind, {})[n] = _figures(acc)
        return figures

    def _timed(self, g: tuple[str, int], sender: Http, gid: int, pipe, count: int, seconds: float) -> None:
        acc, server, watch = self.acc[g], self.server, self.watch
        cpu = server.cpu_seconds()
        redis_cpu = cpu_seconds(self.redis_pid) if self.redis_pid else 0.0
        published = (watch.count, watch.bytes) if watch else (0, 0)
        sent, samples, posts, missed = _send(sender, gid, pipe, count, seconds)
        acc["cpu_ms"].append((server.cpu_seconds() - cpu) * 1000 / sent)
        if self.redis_pid:
            acc["redis_cpu_ms"].append((cpu_seconds(self.redis_pid) - redis_cpu) * 1000 / sent)
        if watch:
            watch.wait_for(published[0] + sent)
            acc["published"] += watch.count - published[0]
            acc["bytes"] += watch.bytes - published[1]
        acc["sent"] += sent
        acc["latency"] += samples
        acc["posts"] += posts
        acc["missed"] += missed

    def _rows(self, g: tuple[str, int], sender: Http, gid: int, pipe, counted: int) -> None:
        """Count what each of `counted` messages wrote, a snapshot of the database before and after each (an
        updated row written by every message is counted every time)."""
        rows, acc = RowCounter(self.server.database), self.acc[g]
        for _ in range(counted):
            before = rows.snapshot()
            _send(sender, gid, pipe, 1, 0.0)
            for table, k in RowCounter.written(before, rows.snapshot()).items():
                acc["written"][table] = acc["written"].get(table, 0) + k
        acc["counted"] += counted


def _figures(acc: dict) -> dict:
    figures = {"messages": acc["sent"], "missed": acc["missed"], "cpu_ms": median(acc["cpu_ms"]),
               "cpu_ms_turns": [round(x, 3) for x in acc["cpu_ms"]],
               "latency_ms": percentiles(acc["latency"]), "send_request_ms": percentiles(acc["posts"])}
    if acc["counted"]:
        written = {t: round(k / acc["counted"], 2) for t, k in acc["written"].items() if k}
        content, relation = written.pop("im_msg_content", 0), written.pop("im_msg_relation", 0)
        timeline = written.pop("im_group_timeline", 0)
        others = round(sum(written.values()), 2)
        figures["rows"] = {"messages": acc["counted"], "content": content, "relation": relation,
                           "timeline": timeline, "others": others, "others_by_table": written,
                           "total": round(content + relation + timeline + others, 2)}
    if acc["redis_cpu_ms"]:
        figures["redis_server_cpu_ms"] = median(acc["redis_cpu_ms"])
    if acc["published"] or acc["bytes"]:
        figures["publishes"] = round(acc["published"] / acc["sent"], 2)
        figures["bytes"] = round(acc["bytes"] / acc["sent"])
    return figures


def run(ctx: Context) -> dict:
    results = {"sizes": sizes(ctx), "load": "one sender over HTTP, one message in flight; one member connected "
               "over WebSocket (ACKs), the others offline"}
    url, tokens, gids = make_crowd(ctx)
    flags = (*UNMERGED, "--large-group-at", str(max(n for _, n in gids)))
    loads = results["load_average"] = {"embedded": round(os.getloadavg()[0], 2)}
    with Server(ctx, database=url, flags=flags) as server:
        ctx.say(f"groups: server pid {server.pid} ready in {server.ready_seconds:.1f}s (it recounts every user)")
        turns = Turns(server, tokens)
        results["embedded"] = turns.run(gids, ctx.scale(3, 1), ctx.scale(2.0, 0.3), ctx.scale(300, 5),
                                        ctx.scale(5, 2))
    for kind, by_size in results["embedded"].items():
        for n, f in by_size.items():
            ctx.say(f"groups: {kind} diffusion, {n} members: {f['cpu_ms']} ms CPU, {f['rows']['total']} rows a "
                    f"message, delivery p50 {f['latency_ms']['p50']} ms, p99 {f['latency_ms']['p99']} "
                    f"(n={f['messages']}; the send request alone p50 {f['send_request_ms']['p50']} ms)")
    loads["published"] = round(os.getloadavg()[0], 2)
    results["published"] = published_pass(ctx, url, flags, lambda server, watch, pid: Turns(
        server, tokens, watch, pid).run(gids, 1, ctx.scale(2.0, 0.3), ctx.scale(100, 3), 0))
    for kind, by_size in results["published"].get("sizes", {}).items():
        for n, f in by_size.items():
            ctx.say(f"groups: {kind} {n} on a real Redis: {f.get('bytes')} bytes in {f.get('publishes')} PUBLISH a "
                    f"message, {f['cpu_ms']} ms CPU (redis-server {f.get('redis_server_cpu_ms')})")
    results["crossover"] = crossover(results["embedded"], results["published"].get("sizes", {}))
    ctx.say(f"groups: crossover {results['crossover']}")
    loads["reader_side"] = round(os.getloadavg()[0], 2)
    results["reader_side"] = reader_side.run(ctx)
    loads["one_to_one"] = round(os.getloadavg()[0], 2)
    results["one_to_one"] = (baseline.compare(ctx, ctx.baseline) if ctx.baseline
                             else {"skipped": "no baseline revision (--baseline none)"})
    loads["end"] = round(os.getloadavg()[0], 2)
    return results
