"""Bench helper: where read diffusion becomes cheaper than write diffusion per message (the groups figure), by
each thing the figure shows: the server's CPU, the rows written, the bytes published, the delivery p50.

For each, the smallest measured size from which read diffusion costs less at every larger size measured, and
where the difference crosses zero, linearly between the two measured sizes around it. `--large-group-at` is
the size above which a group is stored by read diffusion: the crossover chooses it (README, Performance).
"""
from __future__ import annotations

MEASURES = {  # name -> how to read it from a size's figures (embedded run, or the real-Redis pass for bytes)
    "cpu_ms": lambda e, p: e.get("cpu_ms"),
    "rows": lambda e, p: e.get("rows", {}).get("total"),
    "bytes": lambda e, p: p.get("bytes"),
    "delivery_p50_ms": lambda e, p: e.get("latency_ms", {}).get("p50"),
}


def interpolated(pairs: dict[int, tuple[float, float]]) -> float | None:
    """Where write minus read crosses zero, linearly between the two sizes around the last crossing (the size
    from which read stays cheaper); None when read is cheaper at every size or at none."""
    sizes, last = sorted(pairs), cheaper_from(pairs)
    if last is None or last == sizes[0]:
        return None
    below = sizes[sizes.index(last) - 1]
    gap_below, gap_at = pairs[below][0] - pairs[below][1], pairs[last][0] - pairs[last][1]
    return round(below + (last - below) * (0 - gap_below) / (gap_at - gap_below), 1)


def cheaper_from(pairs: dict[int, tuple[float, float]]) -> int | None:
    """The smallest size from which read (the second of each pair) costs less than write at every size measured
    from there on; None when it does not at the largest."""
    found = None
    for n in sorted(pairs, reverse=True):
        write, read = pairs[n]
        if read >= write:
            break
        found = n
    return found


def crossover(embedded: dict, published: dict) -> dict:
    """{measure: {"read_cheaper_from": n, "crossing": members, "by_size": {n: [write, read]}}}."""
    write, read = embedded.get("write", {}), embedded.get("read", {})
    out = {}
    for name, value in MEASURES.items():
        pairs = {}
        for n in set(write) & set(read):
            w = value(write[n], published.get("write", {}).get(n, {}))
            r = value(read[n], published.get("read", {}).get(n, {}))
            if w is not None and r is not None:
                pairs[n] = (w, r)
        out[name] = {"read_cheaper_from": cheaper_from(pairs), "crossing": interpolated(pairs),
                     "by_size": {n: list(pairs[n]) for n in sorted(pairs)}}
    return out
