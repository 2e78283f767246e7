"""Draw the groups figure as an SVG (no plotting library: a few lines of SVG text): the server's CPU a message by
group size, write diffusion beside read diffusion, both axes logarithmic, from the benchmark suite's JSON.

    python bench/run.py --only groups --json bench/results/groups.json
    python bench/plot_groups.py [--json bench/results/latest.json] [--out docs/large-groups.svg]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `imdemo` importable
    sys.path.insert(0, str(ROOT))

from imdemo.config import Config  # noqa: E402

W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 400, 70, 20, 40, 60
LINES = (("write", "write diffusion (a relation row per member)", "#c0392b"),
         ("read", "read diffusion (one row in the group's timeline)", "#2471a3"))


def _scale(lo: float, hi: float, a: float, b: float):
    """A log-scale axis from [lo, hi] onto pixels [a, b]."""
    span = math.log10(hi) - math.log10(lo)
    return lambda v: a + (math.log10(v) - math.log10(lo)) / span * (b - a)


def svg(cpu: dict[str, dict[int, float]], title: str, at: int | None = None) -> str:
    sizes = sorted({n for by in cpu.values() for n in by})
    values = [v for by in cpu.values() for v in by.values()]
    x = _scale(sizes[0], sizes[-1], LEFT, W - RIGHT)
    lo, hi = 10 ** math.floor(math.log10(min(values))), 10 ** math.ceil(math.log10(max(values)))
    y = _scale(lo, hi, H - BOTTOM, TOP)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="sans-serif" font-size="12">', f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>']
    tick = lo
    while tick <= hi:  # a grid line and a label at each power of ten of CPU
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>'
                   f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        tick *= 10
    for n in sizes:
        out.append(f'<line x1="{x(n):.1f}" x2="{x(n):.1f}" y1="{TOP}" y2="{H - BOTTOM}" stroke="#eee"/>'
                   f'<text x="{x(n):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{W / 2}" y="{H - 18}" text-anchor="middle">members in the group</text>'
               f'<text transform="translate(16 {(TOP + H - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">'
               'server CPU ms a message</text>')
    if at:  # the default threshold: groups to its right are stored by read diffusion
        out.append(f'<line x1="{x(at):.1f}" x2="{x(at):.1f}" y1="{TOP}" y2="{H - BOTTOM}" stroke="#555" '
                   f'stroke-dasharray="4 4"/><text x="{x(at) + 4:.1f}" y="{H - BOTTOM - 8}" fill="#555">'
                   f'--large-group-at {at}</text>')
    for i, (kind, label, colour) in enumerate(LINES):
        points = sorted(cpu.get(kind, {}).items())
        path = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for n, v in points]
        out.append(f'<line x1="{LEFT + 12}" x2="{LEFT + 36}" y1="{TOP + 14 + 18 * i}" y2="{TOP + 14 + 18 * i}" '
                   f'stroke="{colour}" stroke-width="2"/><text x="{LEFT + 42}" y="{TOP + 18 + 18 * i}">{label}</text>')
    return "\n".join(out + ["</svg>"]) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bench/plot_groups.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "large-groups.svg")
    args = parser.parse_args(argv)
    report = json.loads(args.json.read_text())
    groups = report["figures"]["groups"]
    cpu = {kind: {int(n): e["cpu_ms"] for n, e in by_size.items()} for kind, by_size in groups["embedded"].items()}
    load = groups.get("load_average", {}).get("embedded")
    title = "One group message: server CPU by group size" + (f" (load average {load})" if load else "")
    args.out.write_text(svg(cpu, title, Config().large_group_at))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
