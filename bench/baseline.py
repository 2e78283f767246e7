"""The 1:1 HTTP send figure (send.py's) of this tree against an earlier revision's, in the same run.

The revision is exported with `git archive` into the run's temp folder (nothing is added to the
repository: no worktree, no branch) and its own run.py is started beside this tree's, each on its own
temp database. The two servers are measured in turns, the order swapped every run (A B, B A, ...), so the
shared machine's noise falls on both alike; the figure is the median of each and their ratio.
"""
from __future__ import annotations

import io
import multiprocessing
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from . import send
from .clients import accounts
from .common import ROOT, Context, Server, median

BEFORE_GROUPS = "18c0bed"  # the last commit before the group work (issue 12)


def checkout(rev: str, into: Path) -> str:
    """Export revision rev of this repository into the folder into; return its short hash."""
    git = ["git", "-C", str(ROOT)]
    found = subprocess.run([*git, "rev-parse", "--short", f"{rev}^{{commit}}"], capture_output=True, text=True)
    if found.returncode != 0:
        raise RuntimeError(f"no revision {rev!r} in {ROOT} ({found.stderr.strip()}); a shallow clone lacks it")
    short = found.stdout.strip()
    archive = subprocess.run([*git, "archive", "--format=tar", short], capture_output=True, check=True)
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    # run.py imports imdemo from its own folder (sys.path[0]): make sure no installed copy wins
    where = subprocess.run([sys.executable, "-c", "import imdemo; print(imdemo.__file__)"], cwd=into,
                           capture_output=True, text=True, check=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(into.resolve()):
        raise RuntimeError(f"the checkout of {rev} imports imdemo from {where}, not from itself")
    return short


def _senders(server: Server, ctx: Context, name: str) -> list[tuple]:
    users = accounts(server.port, [f"{ctx.tag}_{name}{i}" for i in range(2 * send.CLIENTS)])
    senders, recipients = users[:send.CLIENTS], users[send.CLIENTS:]
    return [(server.port, token, to) for (_, token), (to, _) in zip(senders, recipients, strict=True)]


def compare(ctx: Context, rev: str) -> dict:
    """Measure send.py's HTTP send (8 client processes, closed loop) on this tree and on rev, in turns."""
    runs, seconds = ctx.scale(9, 1), ctx.scale(3.0, 1.0)  # many short turns: the machine's noise drifts
    folder = ctx.tmp / f"baseline-{rev}"
    short = checkout(rev, folder)
    ctx.say(f"1:1 send: this tree against {rev} ({short}), exported to {folder}")
    flags = subprocess.run([sys.executable, str(folder / "run.py"), "--help"], capture_output=True, text=True).stdout
    with Server(ctx) as now, Server(ctx, run=folder / "run.py", register_limit="--register-rate" in flags) as before:
        argsets = {"now": _senders(now, ctx, "bn"), "before": _senders(before, ctx, "bb")}
        servers, rows = {"now": now, "before": before}, []
        with multiprocessing.get_context("spawn").Pool(send.CLIENTS) as pool:
            pool.map(time.sleep, [0.0] * send.CLIENTS)  # every process up before the clock starts
            for which in ("now", "before"):  # a first, unmeasured second each: the first run is the coldest
                send._measure(pool, servers[which], send.http_worker, argsets[which], 1.0)
            for r in range(runs):
                row = {}
                for which in ("now", "before") if r % 2 == 0 else ("before", "now"):
                    measured = send._measure(pool, servers[which], send.http_worker, argsets[which], seconds)
                    measured.pop("results")
                    row[which] = measured
                rows.append(row)
                ctx.say(f"1:1 send run {r + 1}/{runs}: this tree {row['now']['rate']:.0f} msg/s "
                        f"({row['now']['cpu_ms']} ms CPU a send), {short} {row['before']['rate']:.0f} msg/s "
                        f"({row['before']['cpu_ms']} ms)")
    figures = {"revision": rev, "commit": short, "runs": rows, "seconds_per_phase": seconds, "load": send.LOAD,
               "errors": sum(row[w]["errors"] for row in rows for w in ("now", "before"))}
    for which in ("now", "before"):
        figures[f"{which}_msgs_per_s"] = median([row[which]["rate"] for row in rows])
        figures[f"{which}_cpu_ms"] = median([row[which]["cpu_ms"] for row in rows])
    figures["ratio"] = round(figures["now_msgs_per_s"] / figures["before_msgs_per_s"], 3)
    figures["cpu_ratio"] = round(figures["now_cpu_ms"] / figures["before_cpu_ms"], 3)
    # the two measurements of one run are seconds apart and share most of the machine's noise
    figures["paired_ratio"] = median([row["now"]["rate"] / row["before"]["rate"] for row in rows])
    return figures
