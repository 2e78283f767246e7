"""API layer: the WebSocket endpoint (SPEC section 6), served by the websockets library's asyncio server
in one thread of the process, on its own port. Blocking service calls run in a small thread pool; notices
from the pub/sub thread are handed to the event loop with call_soon_threadsafe.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import logging
import threading
import time

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from ..config import Config
from ..services import Services
from ..services.errors import ImdemoError, unavailable_causes
from ..services.feed import Feed
from ..services.large_sync import parse_cursors
from .ws_fanout import GroupFanout
from .ws_frames import CLOSE_UNAUTHORIZED
from .ws_session import WINDOW, Session

log = logging.getLogger(__name__)
HELLO_TIMEOUT = 5.0
MAX_FRAME = 16 * 1024


class WebSocketGateway:
    """Accept connections, check each one's hello, and run its Session."""

    def __init__(self, services: Services, config: Config, workers: int = 16):
        self.services, self.config = services, config
        self.note = services.inspector.note if services.inspector is not None else None  # the inspector's, when on
        self.unavailable = unavailable_causes()  # the store's failures that mean "try again soon"
        self.sessions: set[Session] = set()
        self.fanout = GroupFanout(self._listen_group, self.note)  # large groups' events to their connections here
        self._open: set = set()  # every connection, greeted or not, so stop() can cut the stuck ones
        self.pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="imdemo-ws-db")
        self.loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Future | None = None
        self.port = 0
        self.failure: OSError | None = None  # why it could not listen, for start() to raise
        if services.inspector is not None:  # the inspector (a service) reads the connections through this view
            services.inspector.watch_connections(self.connections)
        services.watch.count_connections(lambda: len(self.sessions))  # read when /metrics is scraped

    def start(self, host: str, port: int) -> WebSocketGateway:
        """Listen on host:port in a background thread; return once it accepts connections."""
        self._thread = threading.Thread(target=self._serve, args=(host, port), name="imdemo-ws", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or not self.port:
            raise self.failure or OSError(f"cannot listen for WebSocket on {host}:{port}")
        return self

    def stop(self) -> None:
        """Close every connection (1001 going away) and stop the thread."""
        if self._stop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._stop.set_result, None)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def pending_count(self) -> int:
        """Unacknowledged events held across all connections (for leak checks)."""
        return sum(len(s.pending) for s in list(self.sessions))

    def connections(self) -> list[dict]:
        """Describe every open connection (for the inspector), read on the event loop that changes them."""
        try:
            return asyncio.run_coroutine_threadsafe(self._describe(), self.loop).result(timeout=2)
        except (RuntimeError, concurrent.futures.TimeoutError):  # not serving (yet, or any more): none open
            return []

    async def _describe(self) -> list[dict]:
        now = time.monotonic()
        return [session.describe(now) for session in sorted(self.sessions, key=lambda s: (s.uid, s.feed.position))]

    def _serve(self, host: str, port: int) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main(host, port))
        except OSError as e:
            self.failure = e
        finally:
            self._ready.set()
            self.loop.close()

    def _listen_group(self, gid: int):
        """Listen to large group gid once for all its connections here: one hand-off to the event loop a commit."""
        return self.services.sync.notifier.listen_group(
            gid, lambda notice: self.loop.call_soon_threadsafe(self.fanout.deliver, gid, notice))

    async def _main(self, host: str, port: int) -> None:
        self._stop = self.loop.create_future()
        async with serve(self._handle, host, port, max_size=MAX_FRAME, compression=None,
                         ping_interval=None, max_queue=64, close_timeout=1) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop
            server.close()  # 1001 going away to everyone
            try:
                await asyncio.wait_for(server.wait_closed(), 2)
            except asyncio.TimeoutError:  # peers that never finish the closing handshake
                for websocket in list(self._open):
                    websocket.transport.abort()

    async def run_blocking(self, fn, *args):
        """Run a blocking service call (database, Redis) in the pool, off the event loop."""
        call = functools.partial(fn, *args)
        if self.services.inspector is not None:  # one traced action per call, as for an HTTP request
            named = args[0] if fn.__name__.startswith("_") and args and callable(args[0]) else fn  # a wrapper
            call = functools.partial(self._traced, f"WebSocket {named.__name__}", call)
        return await self.loop.run_in_executor(self.pool, call)

    def _traced(self, name: str, call):
        with self.services.inspector.action(name):
            return call()

    async def _handle(self, websocket) -> None:
        self._open.add(websocket)
        try:
            await self._converse(websocket)
        finally:
            self._open.discard(websocket)
            self.services.watch.closed(close_code(websocket))

    async def _converse(self, websocket) -> None:
        try:
            uid, token, since, batch, cursors = await self._hello(websocket)
        except (ImdemoError, ValueError, RecursionError, asyncio.TimeoutError) as e:
            await websocket.close(CLOSE_UNAUTHORIZED, getattr(e, "code", "hello expected"))
            return
        except ConnectionClosed:
            return
        c, inspector = self.config, self.services.inspector
        # The client holds since, at most the user's newest seq (a cursor never runs ahead of the timeline).
        # Taken before listening: what commits after it is read by the replay below, which starts after.
        cursor = await self.run_blocking(self.services.sync.acknowledge, uid, since)
        feed = Feed(uid, cursor, WINDOW)
        await self.run_blocking(self.services.sync.large.follow, feed, cursors)  # not listened to yet: safe off-loop
        session = Session(websocket, self, uid, token, feed, array_frames=batch,
                          watch=self.services.watch.connection(uid))
        stop_listening = self.services.sync.subscribe(
            uid, lambda notice: self.loop.call_soon_threadsafe(session.on_notice, notice))
        self.sessions.add(session)
        session.follow_groups()
        try:
            await session.send({"type": "welcome", "uid": uid, "heartbeat": c.heartbeat, "ack_timeout": c.ack_timeout,
                                "batch": batch})
            session.wake.set()  # replay everything after the cursor, then go live
            await session.run()
        except ConnectionClosed:
            pass
        finally:
            stop_listening()
            self.sessions.discard(session)
            session.unfollow_groups()
            if inspector is not None and not session.closed_why:  # the server's own closes are noted when made
                inspector.note("WebSocket closed by the client", uid=uid, code=websocket.close_code,
                               reason=websocket.close_reason)

    async def _hello(self, websocket) -> tuple[int, str, int, bool, dict[int, int]]:
        """Wait for the hello frame; return (uid, token, since, whether it asks for batched frames, its large
        groups' cursors) or raise."""
        raw = await asyncio.wait_for(websocket.recv(), HELLO_TIMEOUT)
        frame = json.loads(raw) if isinstance(raw, str) else None
        if not isinstance(frame, dict) or frame.get("type") != "hello":
            raise ValueError("the first frame must be hello")
        token, since = frame.get("token"), frame.get("since", 0)
        if not isinstance(token, str) or isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValueError("hello needs a token and a whole-number since")
        cursors = parse_cursors(frame.get("groups"))
        uid = await self.run_blocking(self.services.auth.authenticate, token)
        if self.services.inspector is not None:
            self.services.inspector.note("WebSocket hello", uid=uid, since=since, groups=cursors)
        return uid, token, since, frame.get("batch") is True, cursors


def close_code(websocket) -> int:
    """The code of the close that ended a connection: the one this side sent first, else the client's (1006:
    none, the connection was cut)."""
    protocol = websocket.protocol
    if protocol.close_sent is not None and not protocol.close_rcvd_then_sent:
        return protocol.close_sent.code
    return protocol.close_rcvd.code if protocol.close_rcvd is not None else 1006
