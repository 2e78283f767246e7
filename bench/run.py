"""Benchmarks of issue 6: start imdemo as users run it, measure each figure, print a table, write JSON.

    python bench/run.py [--quick] [--only NAME[,NAME...]] [--json PATH] [--database URL] [--redis URL]
                        [--baseline REV]

Each figure starts its own server, `python run.py --port P --ws-port Q --database URL --no-demo
--send-rate 0 --register-rate 0`, as a subprocess on free loopback ports with a temp SQLite database (unless
--database), so the server is measured apart from the load generator. Loops are bounded by count and time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `imdemo` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (  # noqa: E402
    coldstart,
    connections,
    groups,
    history,
    idle,
    latency,
    loop,
    media,
    search,
    send,
    storm,
    storm_large,
    warmth,
)
from bench.baseline import BEFORE_GROUPS  # noqa: E402
from bench.common import ROOT, Context  # noqa: E402
from bench.report import rows_of, table  # noqa: E402

FIGURES = {"send": send, "loop": loop, "latency": latency, "connections": connections, "coldstart": coldstart,
           "history": history, "idle": idle, "warmth": warmth, "groups": groups, "storm": storm,
           "storm-large": storm_large, "search": search, "media": media}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description="Run imdemo's benchmarks.")
    parser.add_argument("--quick", action="store_true", help="a short CI-sized run (about a minute)")
    parser.add_argument("--only", metavar="NAME", help=f"comma-separated figures: {', '.join(FIGURES)}")
    parser.add_argument("--json", metavar="PATH", default=str(ROOT / "bench" / "results" / "latest.json"))
    parser.add_argument("--database", metavar="URL", help="a real database (postgresql://...); default temp SQLite")
    parser.add_argument("--redis", metavar="URL", help="a real Redis (redis://...); default the embedded store")
    parser.add_argument("--server-arg", metavar="FLAG", action="append", default=[],
                        help="one more run.py flag for every server, e.g. --server-arg=--no-inspect")
    parser.add_argument("--baseline", metavar="REV", default=BEFORE_GROUPS,
                        help=f"the revision whose 1:1 send the groups figure measures beside this tree's "
                             f"(default {BEFORE_GROUPS}, the version before groups; 'none' to skip)")
    args = parser.parse_args(argv)
    args.baseline = None if args.baseline.lower() == "none" else args.baseline
    args.names = [n.strip() for n in args.only.split(",")] if args.only else list(FIGURES)
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        parser.error(f"unknown figure {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    return args


def meta(args: argparse.Namespace, argv: list[str]) -> dict:
    return {"command": " ".join(["python", "bench/run.py", *argv]), "quick": args.quick,
            "database": args.database or "temp SQLite file (embedded default)",
            "redis": args.redis or "embedded (fakeredis)", "server_args": args.server_arg, "baseline": args.baseline,
            "python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def main(argv: list[str]) -> int:
    args = parse(argv)
    figures, failed = {}, False
    with tempfile.TemporaryDirectory(prefix="imdemo-bench-") as tmp:
        ctx = Context(args.quick, args.database, args.redis, Path(tmp), "b" + secrets.token_hex(3),
                      tuple(args.server_arg), args.baseline)
        print(f"imdemo bench{' (quick)' if args.quick else ''}: {', '.join(args.names)}; temp folder {tmp}",
              flush=True)
        for name in args.names:
            load = os.getloadavg()[0]
            print(f"== {name} (load average {load:.1f} on {os.cpu_count()} cpus)", flush=True)
            started = time.monotonic()
            try:
                figures[name] = FIGURES[name].run(ctx)
            except Exception as e:  # one broken figure must not hide the others; the exit code tells
                traceback.print_exc()
                figures[name], failed = {"error": f"{type(e).__name__}: {e}"}, True
            figures[name]["seconds"] = round(time.monotonic() - started, 1)
            figures[name]["load_average_before"] = round(load, 2)
    rows = rows_of(figures)
    print("\n" + table(rows))
    busy = {name: f["load_average_before"] for name, f in figures.items() if f["load_average_before"] > 1.0}
    if busy:  # other work on the machine takes CPU from the server and the clients: say so beside the figures
        print(f"\nnote: the machine was busy (1-minute load average before the figure: {busy})")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta(args, argv), "figures": figures, "table": rows}, indent=2,
                              ensure_ascii=False) + "\n")
    print(f"\nwrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
