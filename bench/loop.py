"""Figure: the 1:1 loop of issue 21, the server's CPU a delivered message, closed loop over WebSocket.

8 pairs, each in a client process of its own. A sends a `send` frame to B; B's connection takes the pushed
message event and acknowledges it as the page does (hello with `batch: true`, the cursor ACKed once a frame);
A waits for its `sent` answer AND the `delivered` hint the server sends after B's ACK before it sends the
next. So every message goes the whole way: send, store, unread, notice, push, ACK, delivered mark, receipt.
The server's CPU comes from /proc/<pid>/stat over the window; each pair checks that B held every message A
completed, once. ejabberd 23.01 on this machine (STACK-NOTES): 0.74 ms a message, 1,444 msg/s.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time

from .clients import accounts, ws_open
from .common import Context, Server, median, percentiles

PAIRS = 8
LOOP_TIMEOUT = 10.0  # seconds one message may take around the loop before its pair gives up
LOAD = (f"{PAIRS} pairs in {PAIRS} client processes, WebSocket both ends: A sends, B ACKs as the page does, "
        "A waits for sent + delivered before the next")


class Peer:
    """One connection as the page holds it: the cursor (a seq at or below it again is a repeat, dropped),
    the messages held, the `sent` answers and the highest `delivered` mark heard; `changed` is set after
    every frame."""

    def __init__(self, ws, since: int):
        self.ws, self.cursor, self.changed = ws, since, asyncio.Event()
        self.held: dict[int, int] = {}  # mid -> sender of each message event taken
        self.sent: dict[str, int] = {}  # client_msg_id -> mid
        self.failed: set[str] = set()  # client_msg_ids answered with an error
        self.delivered = self.repeats = self.errors = 0

    async def read(self) -> None:
        async for raw in self.ws:
            parsed = json.loads(raw)
            if sum([self._take(f) for f in (parsed if isinstance(parsed, list) else [parsed])]):
                await self.ws.send(json.dumps({"type": "ack", "seq": self.cursor}))
            self.changed.set()

    def _take(self, frame: dict) -> bool:
        """Handle one event or answer; return whether it was a message event (to acknowledge)."""
        kind = frame.get("type")
        if kind == "sent":
            self.sent[frame["client_msg_id"]] = frame["message"]["mid"]
        elif kind == "delivered":
            self.delivered = max(self.delivered, frame["up_to"])
        elif kind == "error":
            self.errors += 1
            self.failed.add(frame.get("client_msg_id", ""))
        if kind != "message":
            return False
        if frame["seq"] <= self.cursor:
            self.repeats += 1
        else:
            self.cursor = frame["seq"]
            self.held[frame["message"]["mid"]] = frame["message"]["from"]
        return True

    def done(self, client_msg_id: str) -> bool:
        mid = self.sent.get(client_msg_id)
        return client_msg_id in self.failed or (mid is not None and self.delivered >= mid)


def pair_worker(ws_port: int, a: tuple, b: tuple, since: tuple[int, int], start_at: float, seconds: float) -> dict:
    """Run one pair's closed loop from start_at for seconds; a and b are (uid, token)."""
    return asyncio.run(_pair(ws_port, a, b, since, start_at, seconds))


async def _pair(ws_port, a, b, since, start_at, seconds) -> dict:
    sender = Peer(await ws_open(ws_port, a[1], since[0], batch=True), since[0])
    receiver = Peer(await ws_open(ws_port, b[1], since[1], batch=True), since[1])
    readers = [asyncio.create_task(p.read()) for p in (sender, receiver)]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    end, tag, rtts, timeouts, mids = start_at + seconds, f"L{os.getpid()}-{int(start_at)}", [], 0, []
    while time.time() < end:
        cmid, started = f"{tag}-{len(rtts) + timeouts}", time.perf_counter()
        await sender.ws.send(json.dumps({"type": "send", "to": b[0], "content": f"loop {len(rtts)}",
                                         "client_msg_id": cmid}))
        if not await _until(sender, cmid, started + LOOP_TIMEOUT):
            timeouts += 1
            break
        if cmid not in sender.failed:
            rtts.append((time.perf_counter() - started) * 1000)
            mids.append(sender.sent[cmid])
    elapsed = time.time() - start_at
    for task in readers:
        task.cancel()
    await asyncio.gather(sender.ws.close(), receiver.ws.close())
    held = [mid for mid, frm in receiver.held.items() if frm == a[0]]
    return {"ok": len(rtts), "elapsed": elapsed, "rtts": rtts, "errors": sender.errors + receiver.errors + timeouts,
            "missing": len(set(mids) - set(held)), "unexpected": len(set(held) - set(mids)),
            "repeats": sender.repeats + receiver.repeats, "since": (sender.cursor, receiver.cursor)}


async def _until(peer: Peer, client_msg_id: str, deadline: float) -> bool:
    """Wait until the send is answered and delivered (or refused); False when the deadline passes first."""
    while True:
        peer.changed.clear()
        if peer.done(client_msg_id):
            return True
        try:
            await asyncio.wait_for(peer.changed.wait(), max(0.0, deadline - time.perf_counter()))
        except asyncio.TimeoutError:
            return peer.done(client_msg_id)


def _measure(pool, server: Server, pairs: list, since: list, seconds: float, on_start=None) -> dict:
    """Run every pair for seconds at the same moment; return the run's figures and each pair's cursors.
    on_start() runs as the window opens (a profiler starting)."""
    start_at, load = time.time() + 1.0, os.getloadavg()[0]  # every pair connected before the window opens
    pending = pool.starmap_async(pair_worker, [(server.ws_port, a, b, s, start_at, seconds)
                                               for (a, b), s in zip(pairs, since, strict=True)])
    time.sleep(max(0.0, start_at - time.time()))
    if on_start is not None:
        on_start()
    cpu = server.cpu_seconds()
    results = pending.get(seconds + 4 * LOOP_TIMEOUT)
    cpu = server.cpu_seconds() - cpu
    ok, elapsed = sum(r["ok"] for r in results), max(r["elapsed"] for r in results)
    p = percentiles([ms for r in results for ms in r["rtts"]])
    run = {"messages": ok, "rate": round(ok / elapsed, 1), "cpu_ms": round(cpu * 1000 / max(1, ok), 3),
           "cores": round(cpu / elapsed, 2), "rtt_p50_ms": p["p50"], "rtt_p99_ms": p["p99"],
           "load_average": round(load, 2), "load_average_end": round(os.getloadavg()[0], 2)}
    for key in ("errors", "missing", "unexpected", "repeats"):
        run[key] = sum(r[key] for r in results)
    run["receiver_timeline"] = max(r["since"][1] for r in results)  # B's newest seq: its timeline's rows
    return {**run, "since": [r["since"] for r in results]}


def run(ctx: Context) -> dict:
    runs, seconds = ctx.scale(3, 1), ctx.scale(5.0, 2.0)
    with Server(ctx) as server:
        ctx.say(f"loop: server pid {server.pid} ready; registering {2 * PAIRS} users")
        users = accounts(server.port, [f"{ctx.tag}_p{i}" for i in range(2 * PAIRS)])
        pairs, since, rows = list(zip(users[:PAIRS], users[PAIRS:], strict=True)), [(0, 0)] * PAIRS, []
        with multiprocessing.get_context("spawn").Pool(PAIRS) as pool:
            pool.map(time.sleep, [0.0] * PAIRS)  # every process up before the clock starts
            since = _measure(pool, server, pairs, since, ctx.scale(1.0, 0.5))["since"]  # warm-up, not counted
            for r in range(runs):
                rows.append(_measure(pool, server, pairs, since, seconds))
                since = rows[-1].pop("since")
                x = rows[-1]
                ctx.say(f"loop run {r + 1}/{runs}: {x['rate']:.0f} msg/s, server CPU {x['cpu_ms']} ms a delivered "
                        f"message ({x['cores']} cores), round trip p50 {x['rtt_p50_ms']} ms, p99 {x['rtt_p99_ms']}; "
                        f"errors {x['errors']}, missing {x['missing']}, repeats {x['repeats']}; load average "
                        f"{x['load_average']}")
    figures = {"pairs": PAIRS, "load": LOAD, "seconds_per_run": seconds, "runs": rows}
    for key in ("rate", "cpu_ms", "cores", "rtt_p50_ms", "rtt_p99_ms", "load_average"):
        figures[key] = median([x[key] for x in rows])
    for key in ("messages", "errors", "missing", "unexpected", "repeats"):
        figures[key] = sum(x[key] for x in rows)
    figures["receiver_timeline"] = rows[-1]["receiver_timeline"]
    return figures
