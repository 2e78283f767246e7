"""Browser test helpers for the lab: use one of its controls, and read its timeline as rows of words.

A timeline row reads "way what detail marks", e.g. "in message 1 retransmission duplicate", from the
data-* attributes the page puts on it, so it reads the same in every language. A large group's event or
ACK names its group and gseq ("in message g7:5", "out ack g7:5"), a poll's answer its seqs, then each
large group's "g7:5"."""
from __future__ import annotations

import re

from .helpers import wait_for

ROWS = """rows => rows.map(r => { const d = r.dataset;
    const gseq = d.gseq !== undefined ? `g${d.group}:${d.gseq}` : '';
    const answer = [d.seqs, d.gseqs].filter(Boolean).join(' ');
    return [d.way, d.what, gseq || d.seq || answer || d.since || d.code || '', d.marks].filter(Boolean).join(' '); })"""


def rows(tab) -> list[str]:
    return tab.page.eval_on_selector_all("#lab .tl-row", ROWS)


def follows(seen: list[str], expected: list[str]) -> bool:
    """Whether expected appears in seen in this order (other rows may come between)."""
    position = 0
    for row in seen:
        if position < len(expected) and re.fullmatch(expected[position], row):
            position += 1
    return position == len(expected)


def wait_for_rows(tab, expected: list[str], timeout: float = 15) -> list[str]:
    """Wait until the timeline shows expected in order; return every row."""
    try:
        return wait_for(lambda: follows(seen := rows(tab), expected) and seen, timeout=timeout,
                        message=f"the timeline to show {expected}")
    except AssertionError as e:
        raise AssertionError(f"{e}; it shows {rows(tab)}") from None


def use(tab, experiment: str) -> None:
    """Click the lab's control of experiment (its data-experiment name)."""
    tab.page.click(f"#lab [data-experiment={experiment}]")
