"""Optional: profile the server under one load with py-spy (`pip install py-spy`), and print where it spends
the GIL, by function: its own time and its inclusive time.

    python bench/profile.py [http|ws|noop|pairs] [--seconds 10] [--clients 8] [--server-arg=--no-inspect]

http, ws, noop: the send figure's closed-loop clients; pairs: the latency figure's background load (8 pairs
sending 20 msg/s each over HTTP, receiving and acknowledging over WebSocket).

py-spy samples only the thread holding the GIL (--gil): in a server bound to one core by the GIL that is
the time that limits throughput. bench/run.py never needs py-spy; this is for finding out why.
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `imdemo` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import latency, send  # noqa: E402
from bench.clients import accounts  # noqa: E402
from bench.common import Context, Server  # noqa: E402


def top(raw: Path, count: int) -> str:
    """Summarise py-spy's collapsed stacks: the functions with the most samples, own and inclusive."""
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames, n = stack.split(";"), int(n)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples with the GIL held", "-- own time"]
    lines += [f"{n / total:6.1%}  {f}" for f, n in own.most_common(count)]
    lines += ["-- inclusive time"] + [f"{n / total:6.1%}  {f}" for f, n in inclusive.most_common(2 * count)]
    return "\n".join(lines)


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
            "cores": round(cpu / elapsed, 2)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/profile.py")
    parser.add_argument("load", choices=["http", "ws", "noop", "pairs"], nargs="?", default="http")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=send.CLIENTS)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--server-arg", action="append", default=[])
    parser.add_argument("--redis", metavar="URL", help="a real Redis instead of the embedded store")
    args = parser.parse_args(argv)
    if shutil.which("py-spy") is None:
        print("bench/profile.py needs py-spy: pip install py-spy", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="imdemo-profile-") as tmp:
        ctx = Context(False, None, args.redis, Path(tmp), "p" + secrets.token_hex(3), tuple(args.server_arg))
        raw = Path(tmp) / "stacks.txt"
        with Server(ctx) as server:
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
                spy = subprocess.Popen(["py-spy", "record", "--pid", str(server.pid), "--gil", "--nonblocking",
                                        "--rate", str(args.rate), "--duration", str(int(args.seconds)),
                                        "--format", "raw", "--output", str(raw)], stderr=subprocess.DEVNULL)
                if worker is not None:
                    measured = send._measure(pool, server, worker, argsets[args.load], args.seconds)
                else:
                    measured = _pairs(mp, server, users, args.seconds)
                spy.wait()
        print(f"{args.load}: {measured['rate']}/s with {args.clients} clients under py-spy; server CPU "
              f"{measured['cpu_ms']} ms per request, {measured['cores']} cores busy\n")
        print(top(raw, 30))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
