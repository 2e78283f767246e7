"""Figure 2: delivery latency, from just before the send request to the receiver parsing the event.

The sender (this process) posts messages over HTTP whose content is the send time; the receiver, in its own
process, runs one transport (short poll every poll_interval, long poll, WebSocket with ACKs) and reports
each latency down a pipe. Under load, 8 other pairs in another process send at 20 messages/s each and
receive over WebSocket. Long poll and WebSocket keep one message in flight; short poll sends at random
moments, so the polling phase is sampled uniformly.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import random
import threading
import time

from .clients import Http, accounts, catch_up, latency_ms, stamp, ws_frames, ws_open
from .common import Context, Server, percentiles

PAIRS, PAIR_RATE = 8, 20.0
LOAD = f"{PAIRS} other pairs, each sending {PAIR_RATE:.0f} msg/s over HTTP and receiving over WebSocket"


def receiver_main(kind: str, port: int, ws_port: int, token: str, interval: float, pipe) -> None:
    """Receive over one transport until terminated; send each message's latency (ms) down pipe."""
    since = catch_up(port, token)
    pipe.send("ready")
    if kind == "websocket":
        return asyncio.run(_ws_receive(ws_port, token, since, pipe))
    http, timeout, hints = Http(port, token), 0 if kind == "short poll" else 25, ""
    while True:  # as the page's sync loop does: both cursors, the next request from where this one ended
        page = http.ok("GET", f"/api/sync?since={since}&timeout={timeout}" + (f"&hints_since={hints}" if hints else ""))
        for event in page["events"]:
            if event["type"] == "message" and (ms := latency_ms(event["message"])) is not None:
                pipe.send(ms)
        since, hints = page["next"], page.get("hints_next", "")
        if timeout == 0 and not page["has_more"]:
            time.sleep(interval)


async def _ws_receive(ws_port: int, token: str, since: int, pipe) -> None:
    def on_message(frame: dict) -> None:
        if (ms := latency_ms(frame["message"])) is not None:
            pipe.send(ms)
    ws = await ws_open(ws_port, token, since)
    async for _ in ws_frames(ws, on_message):
        pass


def load_main(port: int, ws_port: int, pairs: list, stop, report) -> None:
    """Run the background pairs until stop is set; report how many messages were sent."""
    sent = [0] * len(pairs)

    def sender(i: int, token: str, to: int) -> None:
        http, due = Http(port, token), time.monotonic() + random.random() / PAIR_RATE
        while not stop.is_set():
            time.sleep(max(0.0, due - time.monotonic()))
            http.ok("POST", "/api/messages", {"to": to, "content": f"load {sent[i]}",
                                              "client_msg_id": f"load-{started:.0f}-{sent[i]}"})
            sent[i], due = sent[i] + 1, due + 1 / PAIR_RATE

    async def receivers() -> None:
        sockets = [await ws_open(ws_port, token, catch_up(port, token)) for _, _, token in pairs]
        drains = [asyncio.create_task(_drain(ws)) for ws in sockets]
        await asyncio.to_thread(stop.wait)
        for task in drains:
            task.cancel()
    started = time.time()
    threads = [threading.Thread(target=sender, args=(i, tok, to), daemon=True) for i, (tok, to, _) in enumerate(pairs)]
    for t in threads:
        t.start()
    asyncio.run(receivers())
    report.send((sum(sent), time.time() - started))


async def _drain(ws) -> None:
    async for _ in ws_frames(ws):
        pass


def _sample(mp, kind: str, server: Server, sender: Http, to: int, token: str, interval: float, budget):
    """Measure one transport; return the delivery latencies and the send requests' round trips, in ms."""
    pipe, child = mp.Pipe()
    proc = mp.Process(target=receiver_main, args=(kind, server.port, server.ws_port, token, interval, child))
    proc.start()
    samples, posts = [], []
    try:
        if not pipe.poll(30) or pipe.recv() != "ready":
            raise RuntimeError(f"the {kind} receiver did not start")
        time.sleep(0.3)  # the receiver's first poll or hello is under way
        end = time.monotonic() + budget["seconds"]
        while time.monotonic() < end and len(posts) < budget["messages"]:
            posted = time.perf_counter()
            sender.ok("POST", "/api/messages", {"to": to, "content": stamp(), "client_msg_id": f"lat-{time.time_ns()}"})
            posts.append((time.perf_counter() - posted) * 1000)
            if kind == "short poll":
                time.sleep(random.uniform(0, 2 * budget["gap"]))
            elif pipe.poll(5):
                time.sleep(random.uniform(0.005, 0.02))
            while pipe.poll():
                samples.append(pipe.recv())
        deadline = time.monotonic() + interval + 1
        while len(samples) < len(posts) and pipe.poll(max(0.0, deadline - time.monotonic())):
            samples.append(pipe.recv())
    finally:
        proc.terminate()
        proc.join()
    return samples, posts


def run(ctx: Context) -> dict:
    mp = multiprocessing.get_context("spawn")
    budgets = {"short poll": {"seconds": ctx.scale(40, 4), "messages": 1000, "gap": 0.15},
               "long poll": {"seconds": ctx.scale(20, 4), "messages": ctx.scale(300, 40)},
               "websocket": {"seconds": ctx.scale(20, 4), "messages": ctx.scale(300, 40)}}
    results = {"load": LOAD}
    with Server(ctx) as server:
        users = accounts(server.port, [f"{ctx.tag}_l{i}" for i in range(2 + 2 * PAIRS)])
        (_, sender_token), (to, token) = users[:2]
        pairs = [(users[2 + 2 * i][1], users[3 + 2 * i][0], users[3 + 2 * i][1]) for i in range(PAIRS)]
        interval = Http(server.port).ok("GET", "/api/config")["poll_interval"]
        results["poll_interval"] = interval
        sender = Http(server.port, sender_token)
        for condition in ("idle", "load"):
            stop, (report, child) = mp.Event(), mp.Pipe()
            load = mp.Process(target=load_main, args=(server.port, server.ws_port, pairs, stop, child))
            if condition == "load":
                load.start()
                time.sleep(1.5)
                cpu = server.cpu_seconds()
            for kind, budget in budgets.items():
                samples, posts = _sample(mp, kind, server, sender, to, token, interval, budget)
                figures = percentiles(samples)
                results[f"{kind.replace(' ', '_')}_{condition}"] = figures
                results[f"{kind.replace(' ', '_')}_{condition}_send_request_ms"] = percentiles(posts)
                ctx.say(f"latency {kind}, {condition}: p50 {figures['p50']} ms, p90 {figures['p90']}, "
                        f"p99 {figures['p99']}, max {figures['max']} (n={figures['n']}); the send request alone: p50 "
                        f"{percentiles(posts)['p50']} ms")
            if condition == "load":
                stop.set()
                sent, seconds = report.recv() if report.poll(10) else (0, 1.0)
                cpu = server.cpu_seconds() - cpu
                results["load_achieved_msgs_per_s"] = round(sent / seconds, 1)
                results["load_server_cores"] = round(cpu / (seconds - 1.5), 2)
                results["load_server_cpu_ms_per_msg"] = round(cpu * 1000 / max(1, sent), 2)
                ctx.say(f"latency: the background pairs sent {sent / seconds:.0f} msg/s; the server used "
                        f"{results['load_server_cores']} cores, {results['load_server_cpu_ms_per_msg']} ms of CPU "
                        "per message (send, push, ack; the measured messages included)")
                load.join(10)
        sender.close()
    return results
