"""Figure 3: connections held: WebSocket clients pinging every second, and the server's RSS and threads.

One asyncio process (this one, the websockets client) opens the connections 100 at a time, 100 per user
(a user may hold many connections), keeps each one pinging at 1 s for the hold time, then closes them all.
RSS and threads come from /proc/<server pid>/status before, while held, and after they leave.
"""
from __future__ import annotations

import asyncio
import random
import resource
import time

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from .clients import accounts, ws_open
from .common import Context, Server, percentiles

PER_USER = 100
BATCH = 100
PING = '{"type":"ping"}'


def _raise_file_limit(need: int) -> int:
    """Raise this process's open-file limit towards need (the server inherits it); return the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        soft = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


async def _heartbeat(ws, stop_at: float, stats: dict) -> None:
    await asyncio.sleep(random.random())  # spread the pings over the second
    while time.monotonic() < stop_at:
        sent = time.perf_counter()
        try:
            await ws.send(PING)
            while (await asyncio.wait_for(ws.recv(), 5)) != '{"type":"pong"}':
                pass
            stats["rtts"].append((time.perf_counter() - sent) * 1000)
        except asyncio.TimeoutError:
            stats["missed"] += 1
        except ConnectionClosed:
            stats["dropped"] += 1
            return
        await asyncio.sleep(max(0.0, sent + 1.0 - time.perf_counter()))


async def _open_all(ctx: Context, server: Server, tokens: list[str], n: int) -> tuple[list, int]:
    sockets, failed = [], 0
    for start in range(0, n, BATCH):
        batch = await asyncio.gather(*(ws_open(server.ws_port, tokens[i // PER_USER])
                                       for i in range(start, min(n, start + BATCH))), return_exceptions=True)
        failed += sum(isinstance(ws, BaseException) for ws in batch)
        sockets += [ws for ws in batch if not isinstance(ws, BaseException)]
        if (start + BATCH) % 500 == 0:
            ctx.say(f"connections: {len(sockets)} open, {failed} failed")
    return sockets, failed


async def _measure(ctx: Context, server: Server, tokens: list[str], n: int, hold: float) -> dict:
    base = server.status()
    started = time.perf_counter()
    sockets, failed = await _open_all(ctx, server, tokens, n)
    opened_in = time.perf_counter() - started
    stats = {"rtts": [], "missed": 0, "dropped": 0}
    stop_at = time.monotonic() + hold
    beats = [asyncio.create_task(_heartbeat(ws, stop_at, stats)) for ws in sockets]
    await asyncio.sleep(1.0)
    cpu, cpu_from = server.cpu_seconds(), time.monotonic()
    await asyncio.sleep(hold * 0.8 - 1.0)
    held = server.status()
    cores = (server.cpu_seconds() - cpu) / (time.monotonic() - cpu_from)
    await asyncio.gather(*beats)
    still_open = sum(ws.state is State.OPEN for ws in sockets)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await asyncio.sleep(3)  # the server lets go of what each connection held
    after = server.status()
    grown_kb = held["VmRSS"] - base["VmRSS"]
    return {"target": n, "opened": len(sockets), "failed": failed, "open_seconds": round(opened_in, 2),
            "hold_seconds": hold, "still_open_after_hold": still_open, "pongs": len(stats["rtts"]),
            "missed_pongs": stats["missed"], "dropped": stats["dropped"], "pong_rtt_ms": percentiles(stats["rtts"]),
            "rss_base_mb": round(base["VmRSS"] / 1024, 1), "rss_held_mb": round(held["VmRSS"] / 1024, 1),
            "rss_after_mb": round(after["VmRSS"] / 1024, 1),
            "rss_per_connection_kb": round(grown_kb / max(1, len(sockets)), 1), "server_cores_held": round(cores, 2),
            "threads_base": base["Threads"], "threads_held": held["Threads"], "threads_after": after["Threads"]}


def run(ctx: Context) -> dict:
    n, hold = ctx.scale(2000, 300), ctx.scale(20.0, 4.0)
    limit = _raise_file_limit(n + 1000)
    with Server(ctx) as server:
        users = accounts(server.port, [f"{ctx.tag}_c{i}" for i in range(-(-n // PER_USER))])
        ctx.say(f"connections: opening {n} WebSockets ({PER_USER} per user, open-file limit {limit})")
        result = asyncio.run(_measure(ctx, server, [token for _, token in users], n, hold))
    ctx.say(f"connections: {result['opened']} opened in {result['open_seconds']}s, {result['still_open_after_hold']} "
            f"still open after {hold:.0f}s of 1 s pings (pong p50 {result['pong_rtt_ms']['p50']} ms, missed "
            f"{result['missed_pongs']}); RSS {result['rss_base_mb']} -> {result['rss_held_mb']} -> "
            f"{result['rss_after_mb']} MB, threads {result['threads_base']} -> {result['threads_held']} -> "
            f"{result['threads_after']}")
    return {"client": "one asyncio process, websockets library, 1 s ping frames", **result}
