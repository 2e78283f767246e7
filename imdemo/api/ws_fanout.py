"""API layer: a large group's events to the connections this process holds (SPEC section 15, lecture 20).

The gateway listens to each large group once, however many of its connections are members, and hands each
commit's events to them here, on the event loop. A connection that is caught up in the group (its place right
before the events, nothing else of its own waiting to be written, room in its window and its socket's buffer)
takes them directly: they are held for its ACK as any push is, and written with the websockets library's
broadcast(), the same frame's text for all of them (encoded once a commit, not once a connection, and no
wake-up of each connection's push task). Any other connection takes the notice the usual way, and its push task
writes it in order after what it was busy with (a read of the database, a retransmission of what was missed).
At 500 connections, writing to them at once instead of one push task each saves about a third of the server's
CPU a message; and gathering the commits queued on a busy loop into one write keeps a starved server from
falling behind (bench/large-levers.md).
"""
from __future__ import annotations

import asyncio
import time

from websockets.asyncio.server import broadcast

from .ws_frames import encode

HIGH_WATER = 64 * 1024  # bytes waiting in a connection's socket buffer past which it takes the usual way (which
# waits for the buffer to drain): a broadcast never waits, so a slow reader must not be handed more that way


class GroupFanout:
    """Each large group's connections in this process, and the way of a commit's events to them."""

    def __init__(self, listen, note=None):
        self._listen = listen  # listen(gid, listener) -> stop: the notifier's listen_group, handing notices here
        self.note = note  # the inspector's, when on
        self._followers: dict[int, set] = {}  # gid -> the connections (Sessions) that follow it
        self._unlisten: dict[int, object] = {}  # gid -> stop listening to it
        self._waiting: dict[int, list[dict]] = {}  # gid -> its notices not yet written (see deliver)

    def follow(self, gid: int, session) -> None:
        """Hand session the events of large group gid."""
        followers = self._followers.setdefault(gid, set())
        if not followers:
            self._unlisten[gid] = self._listen(gid)
        followers.add(session)

    def unfollow(self, gid: int, session) -> None:
        followers = self._followers.get(gid, set())
        followers.discard(session)
        if not followers and gid in self._unlisten:
            self._unlisten.pop(gid)()
            self._followers.pop(gid, None)

    def deliver(self, gid: int, notice: dict) -> None:
        """One commit's events of group gid (a notice {"group_events": [...]}), for every connection following it:
        written in the loop's next turn, together with the group's other commits whose notices are queued on the
        loop by then. A busy loop thus writes several commits in one frame, as each connection's push task does
        with what piled up while it waited; an idle one writes each commit at once."""
        waiting = self._waiting.setdefault(gid, [])
        if not waiting:
            asyncio.get_running_loop().call_soon(self._flush, gid)
        waiting.append(notice)

    def _flush(self, gid: int) -> None:
        notices = self._waiting.pop(gid, [])
        events = [event for notice in notices for event in notice.get("group_events", ())]
        first, count, now = events[0]["gseq"] if events else 0, len(events), time.monotonic()
        together = count and all(event["gseq"] == first + i for i, event in enumerate(events))  # no other's between
        direct = []
        for session in list(self._followers.get(gid, ())):
            if together and session.caught_up(gid, first, count, HIGH_WATER):
                session.take_directly(gid, events, notices, now)
                direct.append(session)
            else:
                for notice in notices:
                    session.on_notice(notice)
        if direct:
            self._write(direct, events)

    def _write(self, sessions: list, events) -> None:
        """Write events to sessions at once, as Session.send_all would: one frame of them all (a JSON array) to
        those that asked for several events in a frame, else a frame each."""
        texts = [encode(event) for event in events]
        several = len(events) > 1
        arrays = [s for s in sessions if several and s.array_frames]
        singles = [s for s in sessions if not (several and s.array_frames)]
        if arrays:
            broadcast([s.websocket for s in arrays], "[" + ",".join(texts) + "]")
        for text in texts if singles else ():
            broadcast([s.websocket for s in singles], text)
        if self.note is not None:
            for session in arrays:
                self.note("WebSocket frame out", uid=session.uid, frame=list(events))
            for session, event in ((s, e) for s in singles for e in events):
                self.note("WebSocket frame out", uid=session.uid, frame=event)
