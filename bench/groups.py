"""Figure 8: what one group message costs by group size (2, 10, 100 and 500 members), and the 1:1 send
against the version before groups.

One sender posts to each group over HTTP (POST /api/groups/<gid>/messages), one message in flight: the
next is sent when the connected member (a receiver process on a WebSocket, acknowledging as the page does)
holds the previous one, so each message is a group commit of its own. The other members are offline. The
groups are measured in turns (2, 10, 100, 500, again), so the machine's noise falls on every size.

- server CPU per message: /proc/<pid>/stat over each timed turn, divided by its messages (the send, the
  push to the one connected member and its ACK included);
- rows written per message: after the timed turns, a few more messages, each with a snapshot of the
  database before and after it (bench/rows.py), so a row that every message updates counts every time;
- bytes published per message: the embedded store is inside the server's process, so a second pass runs the
  same server on the same database against a real redis-server (started here, or --redis) and a subscriber
  of the notices channel counts every PUBLISH and its bytes. The payload is built by the same code whatever
  the store, so these are the bytes the embedded store passes in process too;
- delivery latency, from just before the send request to the connected member parsing the event.

The servers run with `--unread-merge 0`, so each message's unread changes are counted in its own commit: the
figure is what one message costs. Merging them over a window (run.py's default) is the storm's figure
(bench/storm.py), where many messages share a window.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
import time
from contextlib import nullcontext

from . import baseline, latency
from .clients import Http, account, register, stamp
from .common import Context, RedisServer, Server, cpu_seconds, median, percentiles
from .rows import RowCounter

SIZES = (2, 10, 100, 500)
UNMERGED = ("--unread-merge", "0")  # every message counted in its own commit: the cost of one message


def people(ctx: Context, port: int, most: int = max(SIZES)) -> tuple[tuple[int, str], tuple[int, str], list[int]]:
    """The sender (every group's owner), the connected member, and everyone else (registered only)."""
    sender, receiver = account(port, f"{ctx.tag}_gs"), account(port, f"{ctx.tag}_gr")
    others = register(port, [f"{ctx.tag}_g{i}" for i in range(most - 2)])
    return sender, receiver, others


def make_groups(port: int, sender_token: str, receiver: int, others: list[int]) -> dict[int, int]:
    """One group per size, the sender its owner and the connected member in each; return {size: gid}."""
    http, gids = Http(port, sender_token), {}
    for n in SIZES:
        body = {"name": f"bench {n}", "members": [receiver, *others[:n - 2]]}
        gids[n] = http.ok("POST", "/api/groups", body)["group"]["gid"]
    http.close()
    return gids


class Subscriber:
    """Count the PUBLISHes on one channel of a real Redis and their bytes, from a thread of this process."""

    def __init__(self, url: str, channel: str):
        import redis

        self.pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.count, self.bytes = 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message is not None:
                self.count, self.bytes = self.count + 1, self.bytes + len(message["data"])

    def wait_for(self, count: int, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while self.count < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.pubsub.close()


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
        self.acc = {n: {"cpu_ms": [], "redis_cpu_ms": [], "latency": [], "posts": [], "sent": 0, "missed": 0,
                        "written": {}, "counted": 0, "published": 0, "bytes": 0} for n in SIZES}

    def run(self, gids: dict[int, int], rounds: int, seconds: float, count: int, counted: int) -> dict[int, dict]:
        """Send to every group in turns (rounds x SIZES), then count the rows of `counted` messages a group."""
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
                for n in SIZES:
                    self._timed(n, sender, gids[n], pipe, count, seconds)
            for n in SIZES if counted else ():
                self._rows(n, sender, gids[n], pipe, counted)
        finally:
            receiver.terminate()
            receiver.join()
            sender.close()
        return {n: _figures(self.acc[n]) for n in SIZES}

    def _timed(self, n: int, sender: Http, gid: int, pipe, count: int, seconds: float) -> None:
        acc, server, watch = self.acc[n], self.server, self.watch
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

    def _rows(self, n: int, sender: Http, gid: int, pipe, counted: int) -> None:
        """Count what each of `counted` messages wrote, a snapshot of the database before and after each (an
        updated row written by every message is counted every time)."""
        rows, acc = RowCounter(self.server.database), self.acc[n]
        for _ in range(counted):
            before = rows.snapshot()
            _send(sender, gid, pipe, 1, 0.0)
            for table, k in RowCounter.written(before, rows.snapshot()).items():
                acc["written"][table] = acc["written"].get(table, 0) + k
        acc["counted"] += counted


def _figures(acc: dict) -> dict:
    figures = {"messages": acc["sent"], "missed": acc["missed"], "cpu_ms": median(acc["cpu_ms"]),
               "latency_ms": percentiles(acc["latency"]), "send_request_ms": percentiles(acc["posts"])}
    if acc["counted"]:
        written = {t: round(k / acc["counted"], 2) for t, k in acc["written"].items() if k}
        content, relation = written.pop("im_msg_content", 0), written.pop("im_msg_relation", 0)
        others = round(sum(written.values()), 2)
        figures["rows"] = {"messages": acc["counted"], "content": content, "relation": relation, "others": others,
                           "others_by_table": written, "total": round(content + relation + others, 2)}
    if acc["redis_cpu_ms"]:
        figures["redis_server_cpu_ms"] = median(acc["redis_cpu_ms"])
    if acc["published"] or acc["bytes"]:
        figures["publishes"] = round(acc["published"] / acc["sent"], 2)
        figures["bytes"] = round(acc["bytes"] / acc["sent"])
    return figures


def published(ctx: Context, database: str, tokens: tuple[str, str], gids: dict[int, int]) -> dict:
    """The same turns on a real Redis with a subscriber of the notices channel; {size: figures}."""
    if not ctx.redis and shutil.which("redis-server") is None:
        return {"skipped": "no redis-server on PATH and no --redis: bytes published need a real Redis"}
    with (nullcontext() if ctx.redis else RedisServer(ctx)) as own:
        url = ctx.redis or own.url
        with Server(ctx, database=database, redis=url, flags=UNMERGED) as server:
            ctx.say(f"groups: bytes published, server pid {server.pid} on {url} and the same database")
            watch = Subscriber(url, f"{server.redis_prefix}notices")
            try:
                turns = Turns(server, tokens, watch, own.pid if own else None)
                return {"redis": url if ctx.redis else "a redis-server started for this figure",
                        "sizes": turns.run(gids, 1, ctx.scale(2.0, 0.3), ctx.scale(100, 3), 0)}
            finally:
                watch.close()


def run(ctx: Context) -> dict:
    results = {"sizes": list(SIZES), "load": "one sender over HTTP, one message in flight; one member connected "
               "over WebSocket (ACKs), the others offline"}
    with Server(ctx, flags=UNMERGED) as server:
        ctx.say(f"groups: server pid {server.pid} ready; registering {max(SIZES)} users")
        (_, sender_token), (receiver, receiver_token), others = people(ctx, server.port)
        gids = make_groups(server.port, sender_token, receiver, others)
        tokens = (sender_token, receiver_token)
        turns, loads = Turns(server, tokens), {"embedded": round(os.getloadavg()[0], 2)}
        results["load_average"] = loads
        results["embedded"] = turns.run(gids, ctx.scale(3, 1), ctx.scale(2.0, 0.3), ctx.scale(300, 5), ctx.scale(5, 2))
        for n, f in results["embedded"].items():
            ctx.say(f"groups: {n} members: {f['cpu_ms']} ms CPU, {f['rows']['total']} rows a message, delivery "
                    f"p50 {f['latency_ms']['p50']} ms, p99 {f['latency_ms']['p99']} (n={f['messages']}; the send "
                    f"request alone p50 {f['send_request_ms']['p50']} ms)")
        database = server.database
    loads["published"] = round(os.getloadavg()[0], 2)
    results["published"] = published(ctx, database, tokens, gids)
    for n, f in results["published"].get("sizes", {}).items():
        ctx.say(f"groups: {n} members on a real Redis: {f.get('bytes')} bytes in {f.get('publishes')} PUBLISH a "
                f"message, {f['cpu_ms']} ms CPU (redis-server {f.get('redis_server_cpu_ms')}), delivery p50 "
                f"{f['latency_ms']['p50']} ms")
    loads["one_to_one"] = round(os.getloadavg()[0], 2)
    results["one_to_one"] = (baseline.compare(ctx, ctx.baseline) if ctx.baseline
                             else {"skipped": "no baseline revision (--baseline none)"})
    loads["end"] = round(os.getloadavg()[0], 2)
    return results
