"""Services layer: syncing large groups (SPEC section 15): the compound cursor's per-group part. A large group's
messages have no per-user seq: a client follows each of its large groups by gseq, and asks for what follows
its gseq there, within its join bounds. What it misses beyond a page becomes one gap event, after which it
pages the group's history (Matrix's `limited`), instead of a replay of thousands.

An idle poll runs no SQL here either: the groups a user is in are the fields of their `{uid}_L` hash and each
group's newest gseq is `g{gid}_Q` (store/large_counters.py); the database is read only where a cursor is behind.
"""
from __future__ import annotations

import re

from ..store.groups import GroupStorage
from ..store.large_counters import LargeCounters
from ..store.message import group_event, message_view
from ..store.read_diffusion import NEVER
from .errors import BadInput
from .feed import Feed

GAP_AFTER = 100  # missed messages of one group beyond which a client gets a gap event instead of them
CURSORS = re.compile(r"([1-9][0-9]{0,18}):([0-9]{1,19})")


def parse_cursors(raw) -> dict[int, int]:
    """`gid:gseq,gid:gseq` (a query value) or {"gid": gseq} (a hello frame) -> {gid: gseq}."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        pairs = [(str(k), v) for k, v in raw.items()]
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 and str(k).isdigit() for k, v in pairs):
            return {int(k): v for k, v in pairs if int(k) > 0}
    elif isinstance(raw, str) and len(raw) <= 4096:
        found = [CURSORS.fullmatch(part) for part in raw.split(",")]
        if all(found):
            return {int(m[1]): int(m[2]) for m in found}
    raise BadInput("groups must name each large group's gseq: gid:gseq,...", "invalid_groups")


class LargeGroupSync:
    """Where each of a user's large groups stands, and its events after a gseq."""

    def __init__(self, groups: GroupStorage, counters: LargeCounters):
        self.groups, self.counters = groups, counters

    def follow(self, feed: Feed, cursors: dict[int, int]) -> None:
        """Make feed follow every large group its user is in: from the client's gseq where it gave one (at most
        the group's newest), else from the newest (the client learns a group from its join event or from
        its contacts, and gives its cursor from then on), unless the feed then replays that join: a client
        polling from before a group grew large gets what was sent after the switch (`apply`). A cursor of a
        group the user has left, behind the group's newest, is followed up to the message that ended the
        membership (what was sent before it is theirs, as their history shows); one of a group the user was
        never in is ignored."""
        mine = self.counters.unread(feed.uid)  # the fields of {uid}_L: the user's large groups
        for gid in mine:
            newest = self.newest(gid)
            feed.join(gid, min(cursors.get(gid, newest), newest), self.bounds(feed.uid, gid), gid not in cursors)
        for gid, gseq in cursors.items():
            if gid not in mine and gseq < self.newest(gid):
                self.follow_former(feed, gid, gseq)

    def follow_former(self, feed: Feed, gid: int, gseq: int) -> None:
        """Follow a group the user has left from gseq to where they left (nothing for a group never theirs)."""
        bounds = self.groups.large.bounds(gid, feed.uid)
        if bounds is not None and bounds[1] < NEVER:
            feed.join(gid, gseq, bounds)
            feed.end(gid, bounds[1])

    def newest_of(self, uid: int) -> dict[str, int]:
        """{gid: newest gseq} of each of uid's large groups: where a new client starts its cursors (as
        /api/contacts' seq for the user's own timeline)."""
        return {str(gid): self.newest(gid) for gid in self.counters.unread(uid)}

    def joined(self, feed: Feed, message: dict) -> None:
        """Follow or stop following a large group when the user's own timeline says they joined or left it."""
        apply(feed, self.change_of(feed.uid, message))

    def change_of(self, uid: int, message: dict) -> tuple | None:
        """What a message of uid's own timeline changes in what uid follows: ("join", gid, gseq, bounds) when it
        joins them to a large group (or the group becomes large), ("leave", gid, mid) when it removes them at
        message mid, or None. Only a membership change of a large group asks the database."""
        event, gid = message.get("event") or {}, message.get("group")
        kind = event.get("type")
        if gid is None or kind not in ("created", "added", "removed", "left", "large"):
            return None
        if kind != "large" and uid not in event.get("uids", ()) or not self.groups.is_large(gid):
            return None
        if kind in ("removed", "left"):
            return ("leave", gid, message["mid"])
        return ("join", gid, message["gseq"], self.bounds(uid, gid))

    def newest(self, gid: int) -> int:
        """The group's newest gseq: from Redis, or the database when Redis has lost it."""
        newest = self.counters.newest(gid)
        return newest if newest is not None else self.groups.large.newest(gid)

    def bounds(self, uid: int, gid: int) -> tuple[int, int]:
        return self.groups.large.bounds(gid, uid) or (0, 0)

    def events_after(self, gid: int, since: int, bounds: tuple[int, int], limit: int,
                     newer_exists: bool = False) -> list[dict]:
        """The group's message events after gseq since within bounds, in gseq order; one gap event when more
        than GAP_AFTER were missed; none, with no SQL, when nothing is newer. Bounds closed by a leave end at
        the last message before it: a former member's gap goes no further (nor says how far the group went)."""
        newest = self.newest(gid) if bounds[1] >= NEVER else self.groups.large.newest_at(gid, bounds[1])
        if not newer_exists and since >= newest:
            return []
        if newest - since > GAP_AFTER:
            return [{"type": "gap", "group": gid, "after": since, "gseq": newest}]
        found = self.groups.large.after(gid, since, bounds, limit)
        return [group_event(gid, gseq, message_view(m)) for gseq, m in found]

    def read(self, feed: Feed, room: int) -> list[dict]:
        """Read every large group the feed is behind in (on the feed's own thread)."""
        events = []
        for place in feed.groups_behind():
            since, limit, newer_exists = place.page(max(1, room - len(events)))
            events += feed.read_group(place, self.events_after(place.gid, since, place.bounds, limit, newer_exists),
                                      limit)
        return events


def apply(feed: Feed, change: tuple | None) -> None:
    """Apply a change_of() to a feed (on the feed's own thread): a join starts the group's place at the message
    that joined (a re-join: nothing of the gap), unless the client's own cursor is past it already (it replays
    its own timeline from further back than its group cursor); a leave ends it at the message that removed
    the user, after what came before it. A place the server assumed (the group's newest: the client gave no
    cursor) is not the client's: the join it has not seen moves it."""
    if change is None:
        return
    if change[0] == "leave":
        feed.end(change[1], change[2])
        return
    place = feed.groups.get(change[1])
    if place is not None and not place.assumed and place.position >= change[2]:
        return
    feed.leave(change[1])
    feed.join(*change[1:])
