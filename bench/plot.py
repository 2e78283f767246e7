"""Draw the course's central comparison from the benchmark suite's JSON: delivery latency of short
polling, long polling and WebSocket (idle and under load), and what each costs while nothing happens.

    pip install -e '.[plot]'            # matplotlib, an optional extra
    python bench/run.py --only latency  # or a full run: writes bench/results/latest.json
    python bench/plot.py [--json bench/results/latest.json] [--out docs/transports.png]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSPORTS = [("short_poll", "Short poll"), ("long_poll", "Long poll"), ("websocket", "WebSocket")]
LONG_POLL_SECONDS = 25  # what the page asks a long poll to wait (web/js/transports.js)
HEARTBEAT_SECONDS = 30  # the default heartbeat: one ping frame each (SPEC section 6)


def idle_cost(poll_interval: float) -> dict[str, tuple[float, float]]:
    """Per transport, (HTTP requests, WebSocket frames) a page sends in an idle minute, by its protocol."""
    return {"short_poll": (60 / poll_interval, 0), "long_poll": (60 / LONG_POLL_SECONDS, 0),
            "websocket": (0, 60 / HEARTBEAT_SECONDS)}


def draw(figures: dict, meta: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latency = figures["latency"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    marks, styles = ["p50", "p90", "p99", "max"], {"idle": ("#2f6fed", "o"), "load": ("#d64545", "s")}
    for row, (key, _) in enumerate(TRANSPORTS):
        for shift, (state, (colour, marker)) in zip((-0.12, 0.12), styles.items(), strict=True):
            stats = latency.get(f"{key}_{state}")
            if not stats:
                continue
            values = [stats[m] for m in marks]
            y = row + shift
            left.plot([values[0], values[-1]], [y, y], color=colour, alpha=0.35, linewidth=6, solid_capstyle="round")
            left.scatter(values, [y] * len(values), color=colour, marker=marker, zorder=3,
                         label=f"{state} (p50, p90, p99, max)" if row == 0 else None)
            left.annotate(f"{stats['p50']:.0f} ms", (values[0], y), textcoords="offset points", xytext=(0, 7),
                          ha="center", fontsize=8, color=colour)
    left.set_xscale("log")
    left.set_yticks(range(len(TRANSPORTS)), [label for _, label in TRANSPORTS])
    left.invert_yaxis()
    left.set_xlabel("delivery latency, send start to receipt (ms, log scale)")
    left.set_title(f"Delivery latency (short poll every {latency['poll_interval']:g} s)")
    left.legend(loc="lower right", fontsize=8)
    left.grid(axis="x", which="both", alpha=0.2)

    costs = idle_cost(latency["poll_interval"])
    names = [label for _, label in TRANSPORTS]
    requests = [costs[key][0] for key, _ in TRANSPORTS]
    frames = [costs[key][1] for key, _ in TRANSPORTS]
    right.bar(names, requests, color="#2f6fed", label="HTTP requests")
    right.bar(names, frames, bottom=requests, color="#8a4fd8", label="WebSocket ping frames")
    for i, (r, f) in enumerate(zip(requests, frames, strict=True)):
        right.annotate(f"{r + f:g}", (i, r + f), textcoords="offset points", xytext=(0, 3), ha="center")
    right.set_ylim(0, max(r + f for r, f in zip(requests, frames, strict=True)) * 1.18)
    right.set_title("Sent per idle minute, per tab (by protocol)")
    right.set_ylabel("requests or frames")
    right.legend(fontsize=8)
    fig.suptitle(f"imdemo on {meta.get('cpus', '?')} cores, {meta.get('database', '')}, {meta.get('date', '')}",
                 fontsize=9, color="#6a7385")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python bench/plot.py", description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "latest.json"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "transports.png"))
    args = parser.parse_args()
    results = json.loads(Path(args.json).read_text())
    draw(results["figures"], results["meta"], Path(args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
