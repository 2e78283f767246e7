"""API layer: what a WebSocket connection's client sends after its hello (SPEC sections 6, 11, 14 and 15):
pings, cumulative ACKs (of the user's own timeline by seq, of a large group's by group and gseq), send and read
frames, each answered or refused in the error frame; a frame that writes is made as the connection's user,
whose session is checked in the same worker call."""
from __future__ import annotations

import time

from ..services.errors import BadInput, ImdemoError, Unauthorized
from .ws_frames import CLOSE_UNAUTHORIZED, error_frame, parse, read_call, send_call
from .ws_signals import FRAMES, signal_call, signal_reply


class FramesIn:
    """The inbound half of a Session (ws_session.py): read frames until the connection closes."""

    async def _read(self) -> None:
        async for raw in self.websocket:
            self.last_heard = time.monotonic()
            if self.gateway.note is not None:
                shown = raw if isinstance(raw, str) else repr(raw[:64])
                self.gateway.note("WebSocket frame in", uid=self.uid, frame=shown)
            frame = None
            try:
                frame = parse(raw)
                reply = await self._handle(frame)
            except ImdemoError as e:
                if isinstance(e, Unauthorized):
                    return await self._close(CLOSE_UNAUTHORIZED, e.code)
                reply = error_frame(frame, e)
            except self.gateway.unavailable:
                reply = {"type": "error", "code": "unavailable", "message": "the service is busy; try again"}
            if reply is not None:
                await self.send(reply)

    async def _handle(self, frame: dict) -> dict | None:
        kind = frame.get("type")
        if kind == "ping":
            return {"type": "pong"}
        if kind == "ack":
            return await (self._ack_group(frame) if "group" in frame else self._ack(frame.get("seq")))
        if kind == "send":
            send, conversation = send_call(self.gateway.services, frame)
            message, _ = await self.gateway.run_blocking(self._as_caller, send, conversation, frame.get("content"),
                                                         frame.get("client_msg_id"), frame.get("attachment"),
                                                         frame.get("mentions"))
            return {"type": "sent", "client_msg_id": message["client_msg_id"], "message": message}
        if kind == "read":
            mark, conversation = read_call(self.gateway.services, frame)
            await self.gateway.run_blocking(self._as_caller, mark, conversation, frame.get("up_to"))
            return None
        if kind in FRAMES:  # recall, edit, typing
            call, args = signal_call(self.gateway.services, frame)
            return signal_reply(frame, await self.gateway.run_blocking(self._as_caller, call, *args))
        raise BadInput(f"unknown frame type {kind!r}", "unknown_type")

    async def _ack_group(self, frame: dict) -> None:
        """A cumulative ACK of one large group's events: {"type": "ack", "group": gid, "gseq": N}."""
        gid, gseq = frame.get("group"), frame.get("gseq")
        if any(isinstance(x, bool) or not isinstance(x, int) or x < 0 for x in (gid, gseq)):
            raise BadInput("a group's ack needs a whole-number group and gseq", "invalid_seq")
        was_full = len(self.pending) >= self.window
        self.pending.ack_group(gid, gseq)
        self.watch.acknowledged_group(gid, gseq)
        if was_full:
            self.wake.set()  # the window has room again

    async def _ack(self, seq) -> None:
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise BadInput("ack needs a whole-number seq", "invalid_seq")
        seq = min(seq, self.feed.position)  # nobody acknowledges what was never sent
        was_full = len(self.pending) >= self.window
        # whether this ACK covers a 1:1 message sent to this user (a delivered receipt is due; a group shows who
        # has read instead, so its messages' ACKs cost nothing more)
        received = self.pending.ack(seq, self.uid)
        self.watch.acknowledged(seq)
        if was_full:
            self.wake.set()  # the window has room again
        if received:  # the user's own sends coming back need no receipt; a later ACK records past them
            await self.gateway.run_blocking(self.gateway.services.sync.acknowledge_pushed, self.uid, seq)

    def _as_caller(self, change, *args):
        """Make a change as this connection's user, checking first that the session still lives (in the same
        worker call: a frame that writes is refused the moment its session has ended, not a minute later)."""
        self.gateway.services.auth.authenticate(self.token)
        return change(self.uid, *args)
