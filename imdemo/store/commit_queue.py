"""Store layer: the writer's queue (group commit, as databases call it). Callers that arrive while a commit
is being written queue up; the next of them leads, writing the whole queue at once (one transaction, one Lua
call, one PUBLISH), and wakes the others with their own outcomes.

A caller that arrives when nothing is being written leads at once, in its own thread: alone, a send costs
what it cost before; under load, the fixed costs are shared by the commit. No thread of its own, nothing
to start or stop. SQLite has one writer anyway, so waiting in this queue replaces waiting for its lock.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class _Ticket:
    __slots__ = ("item", "outcome", "leads", "done")

    def __init__(self, item):
        self.item, self.outcome, self.leads = item, None, False
        self.done = threading.Event()  # set when the outcome is in, or when this ticket is to lead


class CommitQueue(Generic[Item, Outcome]):
    """Run write(items) -> outcomes for everything queued, one commit at a time, each caller getting its own.

    write returns one outcome per item; an outcome that is an exception is raised in that item's caller.
    """

    def __init__(self, write: Callable[[list[Item]], list], most: int = 64,
                 alone: Callable[[], bool] = lambda: False):
        self.write, self.most = write, most
        self.alone = alone  # while true, every item is written in a commit of its own (the inspector traces it)
        self._lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._writing = False

    def submit(self, item: Item) -> Outcome:
        """Write item, with whatever else is queued by then; return its outcome or raise its exception."""
        ticket = _Ticket(item)
        with self._lock:
            self._queue.append(ticket)
            ticket.leads = not self._writing
            self._writing = True
        if not ticket.leads:
            ticket.done.wait()
        if ticket.leads:
            self._lead()
        if isinstance(ticket.outcome, BaseException):
            raise ticket.outcome
        return ticket.outcome

    def _lead(self) -> None:
        """Write the queue's head (this ticket first), hand out the outcomes, and pass the lead on."""
        try:
            size = 1 if self.alone() else self.most
        except Exception:  # noqa: BLE001 - a broken switch must not stop the queue
            size = 1
        with self._lock:
            taken, self._queue[:size] = self._queue[:size], []
        try:
            try:
                outcomes = self.write([t.item for t in taken])
                if len(outcomes) != len(taken):
                    raise RuntimeError(f"{len(outcomes)} outcomes for {len(taken)} items")
            except BaseException as e:  # every caller of the commit gets what stopped it
                outcomes = [e] * len(taken)
            for ticket, outcome in zip(taken, outcomes, strict=True):
                ticket.outcome = outcome
                ticket.done.set()
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].leads = True
                    self._queue[0].done.set()
                else:
                    self._writing = False
