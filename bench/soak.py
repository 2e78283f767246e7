"""Soak: 200 WebSocket clients heartbeating and 100 messages a second spread over them, for 10 minutes,
against `python run.py` as a subprocess; a verdict at the end, and a non-zero exit when it fails.

    python bench/soak.py [--minutes 10] [--clients 200] [--rate 100] [--heartbeat 5] [--database URL]
                         [--redis URL] [--server-arg=FLAG ...]

Each client is one user on one connection (asyncio, the websockets library): it pings every heartbeat,
sends its share of the messages as `send` frames to random others, acknowledges every message event, and
checks that its events come once each in seq order (a retransmission of a seq it holds is dropped, as the
page does). At the end every user must hold exactly the messages it sent or received. The server's
threads, RSS and open files are read from /proc every few seconds.

Verdict: no error frame, no unexpected close, no gap; nothing lost or doubled; no more server threads
after the warm-up than at its end; RSS at most --rss-growth MB above the warm-up figure; no error in the
server's log.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.exceptions import ConnectionClosed  # noqa: E402

from bench.clients import accounts, ws_open  # noqa: E402
from bench.common import Context, Server, percentiles  # noqa: E402

SAMPLE_EVERY = 5.0  # seconds between /proc samples
SLACK_FDS = 5  # files the server may open or close meanwhile (database connections of its pool)
SETTLE = 60.0  # seconds allowed, after sending stops, for the last answers and events to arrive
RESEND_AFTER = 10.0  # seconds without a "sent" before a send is repeated (same client_msg_id)


@dataclass
class Client:
    """One user's connection and what it has seen."""

    uid: int
    token: str
    ws: object = None
    last_seq: int = 0
    mids: list[int] = field(default_factory=list)  # message ids in the order of their seqs
    unconfirmed: dict[str, tuple[dict, float]] = field(default_factory=dict)  # cid -> (send frame, sent at)
    pings: deque = field(default_factory=deque)  # send times of pings awaiting their pong


@dataclass
class Soak:
    """The run's shared state: clients, what was sent and confirmed, figures and problems."""

    clients: list[Client]
    heartbeat: float
    confirmed: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # cid -> (mid, sender, to)
    counts: Counter = field(default_factory=Counter)
    problems: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    pong_ms: list[float] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)
    sent: int = 0
    stopping: bool = False

    def problem(self, kind: str) -> None:
        self.problems[kind] += 1
        if self.problems[kind] <= 3:
            print(f"  problem: {kind}", flush=True)


async def listen(soak: Soak, c: Client, port: int) -> None:
    """Read one connection until the end; reconnect from the last seq if it closes under us."""
    while True:
        try:
            async for raw in c.ws:
                await on_frame(soak, c, json.loads(raw))
        except ConnectionClosed:
            pass
        if soak.stopping:
            return
        soak.problem(f"connection closed unexpectedly ({c.ws.close_code})")
        c.ws = await ws_open(port, c.token, since=c.last_seq)
        for cid, (frame, _) in list(c.unconfirmed.items()):  # same client_msg_id: stored once at most
            c.unconfirmed[cid] = (frame, time.monotonic())
            await c.ws.send(json.dumps(frame))


async def on_frame(soak: Soak, c: Client, frame: dict) -> None:
    kind = frame.get("type")
    soak.counts[f"frames {kind}"] += 1
    if kind == "message":
        seq = frame["seq"]
        if seq <= c.last_seq:
            soak.counts["retransmissions dropped"] += 1
        elif seq != c.last_seq + 1:
            soak.problem(f"gap: seq {seq} after {c.last_seq}")
            c.last_seq = seq
        else:
            c.last_seq = seq
            c.mids.append(frame["message"]["mid"])
            if frame["message"]["to"] == c.uid:
                soak.latencies_ms.append((time.time() - float(frame["message"]["content"].split()[0])) * 1000)
        await c.ws.send(json.dumps({"type": "ack", "seq": seq}))
    elif kind == "sent":
        m = frame["message"]
        soak.confirmed[frame["client_msg_id"]] = (m["mid"], m["from"], m["to"])
        c.unconfirmed.pop(frame["client_msg_id"], None)
    elif kind == "pong":
        if c.pings:
            soak.pong_ms.append((time.perf_counter() - c.pings.popleft()) * 1000)
    elif kind == "error":
        soak.problem(f"error frame {frame.get('code')}")


async def heartbeat(soak: Soak, c: Client) -> None:
    await asyncio.sleep(random.random() * soak.heartbeat)  # spread the pings over the period
    while not soak.stopping:
        c.pings.append(time.perf_counter())
        try:
            await c.ws.send('{"type":"ping"}')
        except ConnectionClosed:
            c.pings.pop()  # the listener reconnects; the next beat goes out on the new connection
        await asyncio.sleep(soak.heartbeat)


async def send_steadily(soak: Soak, rate: float, seconds: float) -> None:
    """Send `rate` messages a second for `seconds`, each from a random client to a random other one."""
    next_at, total = time.monotonic(), round(rate * seconds)
    rng = random.Random(7)
    while soak.sent < total:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        sender, to = rng.sample(soak.clients, 2)
        cid = f"soak-{soak.sent}"
        frame = {"type": "send", "to": to.uid, "content": f"{time.time():.6f} from {sender.uid}", "client_msg_id": cid}
        sender.unconfirmed[cid] = (frame, time.monotonic())
        soak.sent += 1
        try:
            await sender.ws.send(json.dumps(frame))
        except ConnectionClosed:
            pass  # resent by the listener after it reconnects
        next_at += 1 / rate


async def resend_unconfirmed(soak: Soak) -> None:
    """Send again, with the same client_msg_id, what has had no "sent" for RESEND_AFTER seconds: what a
    page's outbox does, and the only way to recover from an error frame, which names no client_msg_id."""
    while not soak.stopping:
        await asyncio.sleep(1.0)
        now = time.monotonic()
        for c in soak.clients:
            for cid, (frame, at) in list(c.unconfirmed.items()):
                if now - at > RESEND_AFTER:
                    soak.counts["sends repeated"] += 1
                    c.unconfirmed[cid] = (frame, now)
                    try:
                        await c.ws.send(json.dumps(frame))
                    except ConnectionClosed:
                        pass  # the listener reconnects and sends it


async def sample(soak: Soak, server: Server) -> None:
    started = time.monotonic()
    while not soak.stopping:
        entry = {"t": round(time.monotonic() - started, 1), **_now(server), "sent": soak.sent,
                 "load": round(os.getloadavg()[0], 1)}
        soak.samples.append(entry)
        if len(soak.samples) % 6 == 1:
            print(f"  t={entry['t']:6.1f}s sent {entry['sent']:6d}  threads {entry['threads']}  RSS "
                  f"{entry['rss_mb']} MB  fds {entry['fds']}  load {entry['load']}", flush=True)
        await asyncio.sleep(SAMPLE_EVERY)


async def settle(soak: Soak) -> None:
    """Wait until every send is confirmed and every user holds every message it is owed, or SETTLE passes."""
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        if len(soak.confirmed) == soak.sent and not sum(missing(soak).values()):
            return
        await asyncio.sleep(0.5)


def owed(soak: Soak) -> dict[int, set[int]]:
    """Each user's messages: the ones it sent and the ones it received."""
    result: dict[int, set[int]] = {c.uid: set() for c in soak.clients}
    for mid, sender, to in soak.confirmed.values():
        result[sender].add(mid)
        result[to].add(mid)
    return result


def missing(soak: Soak) -> dict[int, int]:
    """How many of its messages each user does not hold."""
    mine = owed(soak)
    return {c.uid: len(mine[c.uid] - set(c.mids)) for c in soak.clients}


async def soak_run(args, server: Server, users: list[tuple[int, str]]) -> Soak:
    clients = [Client(uid, token) for uid, token in users]
    soak = Soak(clients, args.heartbeat)
    for start in range(0, len(clients), 50):  # open in batches, as a crowd arriving
        batch = clients[start:start + 50]
        sockets = await asyncio.gather(*(ws_open(server.ws_port, c.token) for c in batch))
        for c, ws in zip(batch, sockets, strict=True):
            c.ws = ws
    print(f"  {len(clients)} connections open; sending {args.rate:g} messages/s for {args.minutes:g} min", flush=True)
    tasks = [asyncio.create_task(listen(soak, c, server.ws_port)) for c in clients]
    tasks += [asyncio.create_task(heartbeat(soak, c)) for c in clients]
    sampler = asyncio.create_task(sample(soak, server))
    tasks.append(asyncio.create_task(resend_unconfirmed(soak)))
    await send_steadily(soak, args.rate, args.minutes * 60)
    await settle(soak)
    soak.stopping = True
    await sampler
    soak.samples.append({**soak.samples[-1], "t": "end", **_now(server)})
    for c in clients:
        await c.ws.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return soak


def _now(server: Server) -> dict:
    status = server.status()
    return {"threads": status["Threads"], "rss_mb": round(status["VmRSS"] / 1024, 1),
            "fds": len(os.listdir(f"/proc/{server.pid}/fd")), "cpu_s": server.cpu_seconds(),
            "wall": time.monotonic()}


def after_clients_left(server: Server, soak: Soak, timeout: float = 30.0) -> dict:
    """Wait (up to timeout) until the server has closed the clients' sockets, then sample."""
    deadline, target = time.monotonic() + timeout, soak.samples[-1]["fds"] - len(soak.clients) + SLACK_FDS
    while (now := _now(server))["fds"] > target and time.monotonic() < deadline:
        time.sleep(0.2)
    now["released"] = now["fds"] <= target
    return now


def verdict(soak: Soak, args, server: Server, after_close: dict) -> list[str]:
    """Return the failed checks (empty when the soak passed), printing the figures on the way."""
    failures = [f"{n} x {kind}" for kind, n in soak.problems.items()]
    lost, mine = missing(soak), owed(soak)
    doubled = sum(len(c.mids) - len(set(c.mids)) for c in soak.clients)
    unexpected = sum(len(set(c.mids) - mine[c.uid]) for c in soak.clients)
    if soak.sent != len(soak.confirmed):
        failures.append(f"{soak.sent - len(soak.confirmed)} sends never confirmed")
    if sum(lost.values()) or doubled or unexpected:
        failures.append(f"lost {sum(lost.values())}, doubled {doubled}, unexpected {unexpected}")
    timed = [s for s in soak.samples if s["t"] != "end"]
    warm = next((s for s in timed if s["t"] >= args.warmup), timed[-1])
    later = [s for s in soak.samples if s["t"] == "end" or s["t"] >= warm["t"]]
    grew_threads = max(s["threads"] for s in later) - warm["threads"]
    grew_rss = max(s["rss_mb"] for s in later) - warm["rss_mb"]
    if grew_threads > 0:
        failures.append(f"server threads grew by {grew_threads} after the warm-up")
    if grew_rss > args.rss_growth:
        failures.append(f"RSS grew {grew_rss:.1f} MB after the warm-up (bound {args.rss_growth:g} MB)")
    if not after_close["released"]:
        failures.append(f"the server still holds {after_close['fds']} files after the clients left")
    logged = [line for line in server.log().splitlines() if " ERROR " in line or "Traceback" in line]
    if logged:
        failures.append(f"{len(logged)} error lines in the server log, first: {logged[0][:200]}")
    minutes = args.minutes
    print(f"\nsoak: {len(soak.clients)} clients, {soak.sent} messages in {minutes:g} min "
          f"({soak.sent / (minutes * 60):.1f}/s), heartbeat {args.heartbeat:g} s")
    print(f"  delivered events {sum(len(c.mids) for c in soak.clients)} (each message to its sender and its "
          f"recipient), lost {sum(lost.values())}, doubled {doubled}, retransmissions dropped "
          f"{soak.counts['retransmissions dropped']}, sends repeated {soak.counts['sends repeated']}")
    print(f"  delivery latency ms {percentiles(soak.latencies_ms)}")
    print(f"  pong round trip ms {percentiles(soak.pong_ms)}")
    print(f"  server threads: warm-up {warm['threads']}, max after {max(s['threads'] for s in later)}, "
          f"end {soak.samples[-1]['threads']}, after the clients left {after_close['threads']}")
    print(f"  server RSS MB: first {timed[0]['rss_mb']}, warm-up {warm['rss_mb']}, max after "
          f"{max(s['rss_mb'] for s in later)}, end {soak.samples[-1]['rss_mb']}, after the clients left "
          f"{after_close['rss_mb']} (bound: warm-up + {args.rss_growth:g})")
    print(f"  server open files: warm-up {warm['fds']}, end {soak.samples[-1]['fds']}, after {after_close['fds']}")
    busy, wall = (soak.samples[-1][k] - timed[0][k] for k in ("cpu_s", "wall"))
    print(f"  server CPU {busy:.1f} s in {wall:.0f} s ({busy / wall * 100:.0f}% of one core), "
          f"{busy / max(1, soak.sent) * 1000:.1f} ms per message")
    print(f"  load average (1 min) during the run: {min(s['load'] for s in timed)}..{max(s['load'] for s in timed)}"
          f" on {os.cpu_count()} cpus")
    return failures


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/soak.py", description="Soak imdemo over WebSocket.")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to send (default 10)")
    parser.add_argument("--clients", type=int, default=200, help="WebSocket clients, one user each (default 200)")
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second in all (default 100)")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="server --heartbeat and client ping period")
    parser.add_argument("--warmup", type=float, help="seconds before the thread and RSS baselines (default: "
                                                     "a quarter of the run, at most 60)")
    parser.add_argument("--rss-growth", type=float, default=64.0, help="MB RSS may grow after the warm-up")
    parser.add_argument("--database", metavar="URL", help="a real database; default a temp SQLite file")
    parser.add_argument("--redis", metavar="URL", help="a real Redis; default the embedded store")
    parser.add_argument("--server-arg", metavar="FLAG", action="append", default=[], help="one more run.py flag")
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = min(60.0, args.minutes * 60 / 4)
    return args


def _revision() -> str:
    """The commit the server runs, marked -dirty when the working tree has changes: figures need it."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=Path(__file__).resolve().parent,
                              capture_output=True, text=True, timeout=10).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv: list[str]) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="imdemo-soak-") as tmp:
        ctx = Context(False, args.database, args.redis, Path(tmp), "s" + secrets.token_hex(3),
                      ("--heartbeat", str(args.heartbeat), *args.server_arg))
        with Server(ctx) as server:
            print(f"imdemo soak: code {_revision()}; server pid {server.pid} ready in {server.ready_seconds:.1f}s; "
                  f"creating {args.clients} users", flush=True)
            users = accounts(server.port, [f"{ctx.tag}_{i}" for i in range(args.clients)])
            soak = asyncio.run(soak_run(args, server, users))
            failures = verdict(soak, args, server, after_clients_left(server, soak))
    print("\nverdict: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
