"""Figure 1: send throughput of 8 concurrent clients over HTTP and WebSocket, against a no-op JSON ceiling.

Each client is its own process (multiprocessing, spawn) holding one keep-alive connection and sending
in a closed loop (the next request when the answer arrives), so the load generator's GIL is not the
bound. The no-op ceiling is GET /healthz on the same server in the same run.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time

from .clients import Http, accounts, ws_frames, ws_open
from .common import Context, Server, median

CLIENTS = 8
MAX_PER_CLIENT = 200_000  # the count bound beside the time bound
LOAD = "8 client processes (multiprocessing spawn), one keep-alive connection each, closed loop"


def _wait_for(start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))


def noop_worker(port: int, start_at: float, seconds: float) -> tuple[int, int, float]:
    """GET /healthz as fast as answers come; return (ok, errors, seconds)."""
    http, ok, errors = Http(port), 0, 0
    _wait_for(start_at)
    end = start_at + seconds
    while time.time() < end and ok < MAX_PER_CLIENT:
        status, _ = http.call("GET", "/healthz")
        ok, errors = (ok + 1, errors) if status == 200 else (ok, errors + 1)
    return ok, errors, time.time() - start_at


def http_worker(port: int, token: str, to: int, start_at: float, seconds: float) -> tuple[int, int, float]:
    """POST /api/messages (with a client_msg_id, as the web page sends) as fast as answers come."""
    http, ok, errors = Http(port, token), 0, 0
    _wait_for(start_at)
    end, tag = start_at + seconds, f"h{os.getpid()}-{int(start_at)}"
    while time.time() < end and ok < MAX_PER_CLIENT:
        body = {"to": to, "content": f"bench message {ok}", "client_msg_id": f"{tag}-{ok}-{errors}"}
        status, _ = http.call("POST", "/api/messages", body)
        ok, errors = (ok + 1, errors) if status == 201 else (ok, errors + 1)
    return ok, errors, time.time() - start_at


def ws_worker(ws_port: int, token: str, to: int, since: int, start_at: float, seconds: float):
    """Send `send` frames, each after the previous one's `sent`; ack pushed events. Return (ok, errors,
    seconds, newest seq seen)."""
    return asyncio.run(_ws_send(ws_port, token, to, since, start_at, seconds))


async def _ws_send(ws_port, token, to, since, start_at, seconds):
    ws = await ws_open(ws_port, token, since)
    newest = [since]
    frames = ws_frames(ws, on_message=lambda f: newest.__setitem__(0, max(newest[0], f["seq"])))
    await asyncio.sleep(max(0.0, start_at - time.time()))
    end, tag, ok, errors = start_at + seconds, f"w{os.getpid()}-{int(start_at)}", 0, 0
    while time.time() < end and ok < MAX_PER_CLIENT:
        await ws.send(json.dumps({"type": "send", "to": to, "content": f"bench message {ok}",
                                  "client_msg_id": f"{tag}-{ok}-{errors}"}))
        while (frame := await anext(frames))["type"] not in ("sent", "error"):
            pass
        ok, errors = (ok + 1, errors) if frame["type"] == "sent" else (ok, errors + 1)
    elapsed = time.time() - start_at
    await ws.close()
    return ok, errors, elapsed, newest[0]


def _measure(pool, server: Server, worker, argsets: list[tuple], seconds: float) -> dict:
    """Run worker in every process at the same moment; return its rate, errors, the server's CPU per
    request (robust to other work on the machine) and the raw results."""
    start_at, cpu = time.time() + 0.5, server.cpu_seconds()
    results = pool.starmap(worker, [(*args, start_at, seconds) for args in argsets])
    cpu = server.cpu_seconds() - cpu
    ok, errors, elapsed = sum(r[0] for r in results), sum(r[1] for r in results), max(r[2] for r in results)
    return {"rate": round(ok / elapsed, 1), "errors": errors, "cpu_ms": round(cpu * 1000 / max(1, ok), 3),
            "cores": round(cpu / elapsed, 2), "results": results}


def run(ctx: Context) -> dict:
    runs, seconds = ctx.scale(3, 1), ctx.scale(5.0, 2.0)
    with Server(ctx) as server:
        ctx.say(f"send: server pid {server.pid} ready; registering {3 * CLIENTS} users")
        users = accounts(server.port, [f"{ctx.tag}_s{i}" for i in range(3 * CLIENTS)])
        recipients = [uid for uid, _ in users[2 * CLIENTS:]]
        http_args = [(server.port, token, to) for (_, token), to in zip(users[:CLIENTS], recipients, strict=True)]
        ws_tokens = [token for _, token in users[CLIENTS:2 * CLIENTS]]
        ws_since = [0] * CLIENTS  # each WebSocket sender resumes from the newest seq it saw
        rows = []
        with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
            pool.map(time.sleep, [0.0] * CLIENTS)  # every process up before the clock starts
            for r in range(runs):
                noop = _measure(pool, server, noop_worker, [(server.port,)] * CLIENTS, seconds)
                sent = _measure(pool, server, http_worker, http_args, seconds)
                ws_args = [(server.ws_port, token, to, since)
                           for token, to, since in zip(ws_tokens, recipients, ws_since, strict=True)]
                ws = _measure(pool, server, ws_worker, ws_args, seconds)
                ws_since = [res[3] for res in ws.pop("results")]
                noop.pop("results"), sent.pop("results")
                rows.append({"noop": noop, "http": sent, "ws": ws, "ratio": round(sent["rate"] / noop["rate"], 3)})
                ctx.say(f"send run {r + 1}/{runs}: no-op {noop['rate']:.0f}/s, HTTP send {sent['rate']:.0f}/s "
                        f"({rows[-1]['ratio']:.0%} of no-op), WebSocket send {ws['rate']:.0f}/s; server CPU per "
                        f"request {noop['cpu_ms']} / {sent['cpu_ms']} / {ws['cpu_ms']} ms, cores used "
                        f"{noop['cores']} / {sent['cores']} / {ws['cores']}")
    figures = {"clients": CLIENTS, "load": LOAD, "seconds_per_phase": seconds, "runs": rows,
               "ratio": median([r["ratio"] for r in rows]),
               "errors": sum(r[kind]["errors"] for r in rows for kind in ("noop", "http", "ws"))}
    for kind, name in (("noop", "noop_per_s"), ("http", "http_msgs_per_s"), ("ws", "ws_msgs_per_s")):
        figures[name] = median([r[kind]["rate"] for r in rows])
        figures[f"{kind}_server_cpu_ms"] = median([r[kind]["cpu_ms"] for r in rows])
        figures[f"{kind}_server_cores"] = median([r[kind]["cores"] for r in rows])
    return figures
