"""A large group's fan-out, one message in flight: the server's CPU a message by the connections it reaches,
without the batching a busy machine brings (bench/large-levers.md measures the levers with it).

    python bench/fanout.py [--members 10000] [--online 50,500] [--messages 300] [--rounds 2]
                           [--levers 'none|ack_index|skip_follow'] [--json PATH]

A group of --members by read diffusion, built with the database (crowd.py); --online of them connected over
WebSocket in one process of their own, acknowledging as the page does (storm_member.py: batch frames, an ACK
by group and gseq within 100 ms of a frame, covering every frame since). The first of them sends a message as a
WebSocket `send` frame and the next only once every connected member holds it, so each message is its own
commit and its own frame to each connection, and an ACK covers the messages of 100 ms: the server's CPU a
message (from /proc over --messages, after a warm-up) is the whole way of one message to that many
connections, whatever else runs on the machine (it moves the wall clock, not this). (large-levers.md's sittings
1 and 2 were measured before the page waited 100 ms: an ACK a frame.) Each lever set (serve_levers.py) and each
--online are measured in turns, --rounds times, medians.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `imdemo` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clients import Http  # noqa: E402
from bench.common import ROOT, Context, Server, percentiles  # noqa: E402
from bench.crowd import GroupPlan, build  # noqa: E402
from bench.storm_member import Member  # noqa: E402

LEVERS = ROOT / "bench" / "serve_levers.py"
WARM_UP = 20
STALL = 60  # seconds a message may take to reach every member before the run stops and reports them


def members_main(ports, people, gid: int, gseq: int, messages: int, ack_every: float, pipe) -> None:
    pipe.send(asyncio.run(_members(ports, people, gid, gseq, messages, ack_every, pipe)))


async def _members(ports, people, gid, gseq, messages, ack_every, pipe) -> dict:
    members = [Member(ports, uid, token, gid, True, gseq, ack_every) for uid, token in people]
    holding, everyone = {}, asyncio.Event()  # how many members hold n messages; set when all hold the last

    def held(n: int) -> None:
        holding[n] = holding.get(n, 0) + 1
        if holding[n] == len(members):
            everyone.set()
    for m in members:
        m.on_hold = held
        await m.connect()
    tasks = [asyncio.create_task(m.run()) for m in members]
    tasks += [asyncio.create_task(m.ack_late()) for m in members if ack_every]
    sender, latencies, cpu = members[0], [], 0.0
    for k in range(WARM_UP + messages):
        if k == WARM_UP:
            pipe.send("measuring")
            await asyncio.to_thread(pipe.recv)
            cpu = time.process_time()
        started = time.perf_counter()
        everyone.clear()
        await sender.send({"type": "send", "group": gid, "content": f"t={time.time():.6f}",
                           "client_msg_id": f"f{os.getpid()}-{k}"})
        try:
            await asyncio.wait_for(everyone.wait(), STALL)
        except asyncio.TimeoutError:  # reported, not waited for: a member that never holds it is a miss
            stalled = [m.uid for m in members if len(m.held) <= k]
            break
        if k >= WARM_UP:
            latencies.append((time.perf_counter() - started) * 1000)
    else:
        stalled = []
    out = {"latencies": latencies, "clients_cpu": time.process_time() - cpu, "stalled": stalled,
           "sent": k + 1 - WARM_UP,
           "repeats": sum(m.repeats for m in members), "reconnects": sum(m.reconnects for m in members),
           "frames": sum(m.frames for m in members)}
    for m in members:
        await m.close()
    for task in tasks:
        task.cancel()
    return out


def run_on(server: Server, people, gid: int, online: int, messages: int, on_start=None,
           ack_every: float = 0.0) -> dict:
    """Run the load on a started server; on_start() runs as the window opens (a profiler starting); ack_every:
    seconds between a member's ACKs (0: one a frame, as the page)."""
    owner = Http(server.port, people[0][1])
    gseq = owner.ok("GET", "/api/contacts")["groups_seq"][str(gid)]
    owner.close()
    mp = multiprocessing.get_context("spawn")
    pipe, child = mp.Pipe()
    proc = mp.Process(target=members_main, args=((server.port, server.ws_port), people[:online], gid, gseq,
                                                 messages, ack_every, child))
    proc.start()
    try:
        if not pipe.poll(900) or pipe.recv() != "measuring":
            raise RuntimeError("the members did not start")
        if on_start is not None:
            on_start()
        cpu, started, load = server.cpu_seconds(), time.monotonic(), os.getloadavg()[0]
        pipe.send("go")
        if not pipe.poll(messages * 10 + 60):
            raise RuntimeError("the messages did not all arrive")
        out = pipe.recv()
        cpu, elapsed = server.cpu_seconds() - cpu, time.monotonic() - started
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    messages = max(1, out["sent"])
    return {"online": online, "messages": messages, "stalled": out["stalled"],
            "cpu_ms": round(cpu * 1000 / messages, 3),
            "us_a_connection": round(cpu * 1e6 / messages / online, 1), "rate": round(messages / elapsed, 1),
            "cores": round(cpu / elapsed, 2), "delivery_to_all_ms": percentiles(out["latencies"]),
            "frames_a_member_message": round(out["frames"] / (online * (messages + WARM_UP)), 3),
            "repeats": out["repeats"], "reconnects": out["reconnects"],
            "clients_cpu_us_a_delivery": round(out["clients_cpu"] * 1e6 / (messages * online), 1),
            "load_average": round(load, 2)}


def measure(ctx: Context, url: str, people, gid: int, online: int, variant: str, messages: int) -> dict:
    """One run of a variant: a lever set of serve_levers.py ("none": as built), "+ack_MS" for members that ACK
    every MS milliseconds."""
    levers, _, ack = variant.partition("+ack_")
    launch = {"run": LEVERS, "run_args": (levers,)} if levers != "none" else {}
    with Server(ctx, database=url, **launch) as server:
        return {**run_on(server, people, gid, online, messages, ack_every=float(ack or 0) / 1000), "levers": variant}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/fanout.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--online", default="50,500")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--levers", default="none", help="lever sets of serve_levers.py, separated by |; a set "
                        "ending in +ack_MS has the members ACK every MS ms (none+ack_100: as built)")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    onlines, sets = [int(n) for n in args.online.split(",")], args.levers.split("|")
    runs = []
    with tempfile.TemporaryDirectory(prefix="imdemo-fanout-") as tmp:
        ctx = Context(False, None, None, Path(tmp), "f" + secrets.token_hex(3))
        url = f"sqlite:///{Path(tmp) / 'fanout.db'}"
        people, (gid,) = build(url, args.members, (GroupPlan("fanout", args.members, True),), prefix=ctx.tag)
        for r in range(args.rounds):
            for online in onlines:
                for levers in sets if r % 2 == 0 else sets[::-1]:  # in turns, the order reversed each round
                    runs.append(measure(ctx, url, people, gid, online, levers, args.messages))
                    x = runs[-1]
                    ctx.say(f"fan-out to {online} ({x['levers']}): {x['cpu_ms']} ms CPU a message, "
                            f"{x['us_a_connection']} us a connection, delivery to all p50 "
                            f"{x['delivery_to_all_ms']['p50']} ms, {x['frames_a_member_message']} frames a member "
                            f"a message, load {x['load_average']}"
                            + (f"; STALLED: members {x['stalled'][:10]} never held message {x['messages']}"
                               if x["stalled"] else ""))
    summary = {}
    for online in onlines:
        for levers in sets:
            mine = [x for x in runs if x["online"] == online and x["levers"] == levers]
            summary[f"{online} {levers}"] = {"cpu_ms": statistics.median(x["cpu_ms"] for x in mine),
                                             "runs": [x["cpu_ms"] for x in mine]}
    for key, s in summary.items():
        print(f"{key}: median {s['cpu_ms']} ms CPU a message (runs {s['runs']})")
    if args.json:
        Path(args.json).write_text(json.dumps({"argv": argv, "runs": runs, "summary": summary}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
