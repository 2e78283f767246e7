"""API layer: the timers of one WebSocket connection (the course's final design): the heartbeat watched, what
waits for an ACK past ack_timeout sent again at most ack_retries times, then the close (4408); the session
checked now and then, an ended one closed (4401). The other half of a Session (ws_session.py)."""
from __future__ import annotations

import asyncio
import time

from ..services.errors import Unauthorized
from .ws_frames import CLOSE_TIMEOUT, CLOSE_UNAUTHORIZED
from .ws_pending import key_of, named

SESSION_CHECK = 60.0  # seconds between checks that the connection's session is still alive


class Timers:
    """Retransmission, heartbeat and session checks of a Session."""

    async def _watch(self) -> None:
        """Retransmit what is overdue; close a connection that stays silent or never acknowledges."""
        timers = self.gateway.config
        tick = max(0.01, min(timers.ack_timeout, timers.heartbeat) / 5)
        session_checked = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - self.last_heard > 3 * timers.heartbeat:
                return await self._close(CLOSE_TIMEOUT, "heartbeat timeout")
            if now - session_checked > min(SESSION_CHECK, 2 * timers.heartbeat):
                session_checked = now  # a logout closes at once (a notice); an expiry is found here
                if not await self._session_alive():
                    return await self._close(CLOSE_UNAUTHORIZED, "session ended")
            overdue = self.pending.overdue(now, timers.ack_timeout)
            if any(item.sends > timers.ack_retries for item in overdue):
                return await self._close(CLOSE_TIMEOUT, "ack timeout")
            for item in overdue:
                item.sends += 1
                item.sent_at = now
                if self.gateway.note is not None:
                    self.gateway.note("WebSocket retransmission", uid=self.uid, **named(key_of(item.event)),
                                      sends=item.sends)
            self.watch.retransmitted(len(overdue))
            await self.send_all([item.event for item in overdue])

    async def _session_alive(self) -> bool:
        try:
            await self.gateway.run_blocking(self.gateway.services.auth.authenticate, self.token)
        except Unauthorized:
            return False
        except self.gateway.unavailable:  # the store is away for a moment: check again next time
            pass
        return True

    async def _close(self, code: int, reason: str) -> None:
        if self.gateway.note is not None:
            self.gateway.note(f"WebSocket closed: {reason}", uid=self.uid, code=code)
        self.closed_why = reason
        self.pending.clear()  # freed now, not after the peer answers the close
        await self.websocket.close(code, reason)
