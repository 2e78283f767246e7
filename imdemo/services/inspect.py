"""Services layer: the inspector: what each action did underneath, two users' raw state, or a group's."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

from ..store.media_state import MediaState
from ..store.message_trace import MessageTraces
from ..store.state import StateReader
from ..store.trace import Trace
from . import checks
from .errors import NotFound


class Inspector:
    """Show learners the machinery: the trace of actions and the state of a pair of users."""

    def __init__(self, trace: Trace, state: StateReader, traces: MessageTraces, media: MediaState | None = None,
                 large_at: int = 0):
        self.trace, self.state, self.traces, self.media, self.large_at = trace, state, traces, media, large_at
        self._connections: Callable[[], list[dict]] = list  # none, until the api layer's gateway shows its own
        self._waiting: Callable[[int], dict[int, int]] = lambda gid: {}  # merged unread changes not applied yet

    def watch_connections(self, describe: Callable[[], list[dict]]) -> None:
        """Take a read-only view of the open WebSocket connections from the layer that holds them."""
        self._connections = describe

    def watch_merges(self, waiting: Callable[[int], dict[int, int]]) -> None:
        """Take the merger's view of a group's unread changes gathered and not applied yet, {uid: n}."""
        self._waiting = waiting

    def connections(self) -> dict:
        """Return each open connection: its user, cursor, silence, and every pending ACK (seq, age, sends)."""
        return {"connections": self._connections()}

    def action(self, name: str, **info):
        """Open an action: the SQL and Redis steps taken inside it are listed under it."""
        return self.trace.action(name, **info)

    def note(self, name: str, **info) -> None:
        self.trace.note(name, **info)

    def actions_after(self, action_id=0) -> dict:
        action_id = checks.integer(action_id, "after", 0)
        self.traces.inspected()  # the page polls this: record while it is open, here and in every process
        actions = self.trace.after(action_id)
        return {"actions": actions, "next": actions[-1]["id"] if actions else action_id}

    def message_traces(self) -> dict:
        """Return the messages traced lately, newest first, each with its steps in every process (lecture 19)."""
        return {"traces": self.traces.latest()}

    def pair(self, a, b) -> dict:
        """Return both users' rows and keys, with every difference between Redis and the database."""
        a, b = checks.integer(a, "a", 1), checks.integer(b, "b", 1)
        state = self.state.pair(a, b)
        state["differences"] = [
            f"{uid}: Redis says {u['redis_total']} unread in total, the database {u['database_total']}"
            for uid, u in state["unread"].items() if u["redis_total"] != u["database_total"]] + [
            f"{uid} with {other}: Redis says {u['redis_conversations'].get(other, 0)}, the database {n}"
            for uid, u in state["unread"].items()
            for other, n in {**{o: 0 for o in u["redis_conversations"]}, **u["database_conversations"]}.items()
            if u["redis_conversations"].get(other, 0) != n]
        return state

    def uploads(self) -> dict:
        """Return the recent uploads: each one's row, the chunk rows of its bytes, the file it became and the
        messages carrying that file."""
        return {"uploads": self.media.recent() if self.media is not None else []}

    def group(self, gid) -> dict:
        """Return a group's rows and each member's unread field in Redis beside the database's count, and the
        messages waiting for the merge window (--unread-merge) to be counted; the members whose Redis count
        and database count disagree by more than what waits are listed in differences (uids)."""
        gid = checks.integer(gid, "gid", 1)
        waiting = self._waiting(gid)  # first: what is applied meanwhile shows in Redis, not twice
        state = self.state.group(gid)
        if state is None:
            raise NotFound(f"no group {gid}", "no_such_group")
        for u in state["unread"]:
            u["waiting"] = waiting.get(u["uid"], 0) if u["member"] else 0
        state["differences"] = [u["uid"] for u in state["unread"]
                                if u["redis"] != u["database"] and u["redis"] + u["waiting"] != u["database"]]
        state["large_at"] = self.large_at
        return state


def action_of(inspector: Inspector | None, name: str, **info):
    """An inspector action, or nothing at all when the inspector is off."""
    return inspector.action(name, **info) if inspector is not None else nullcontext()
