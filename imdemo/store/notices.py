"""Store layer: small notices for users, over pub/sub, fanned out to this process's listeners.

A notice says what happened to a user (a new seq, a read marker, an unread hint) and may carry the message
events it announces, so a listener that expects exactly those seqs needs no database read; a missed notice
costs latency, never a message (the database has everything by seq). Every process hears every user's
notices (it may hold any user's connections), so the notices of one action, or of a whole commit, travel
together as one PUBLISH on one channel (its shape: notice_payload.py).

One listener thread per process reads that channel and hands each notice to its user's local listeners, and
each large group's events to the listeners of that group. The same code path works in-process (fakeredis) and
across processes (Redis).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from .hints import Hints
from .keyvalue import Keys
from .notice_payload import Payload

log = logging.getLogger(__name__)
Listener = Callable[[dict], None]


class Notifier:
    """Publish notices to users and deliver the notices of local users to their listeners."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys, self.hints = client, keys, Hints(client, keys)
        self._listeners: dict[int, set[Listener]] = {}
        self._group_listeners: dict[int, set[Listener]] = {}  # a large group's gid -> this process's listeners
        self._watchers: list[tuple[str, Callable[[int, dict], None]]] = []  # (key, watcher): every user's
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.heard: Callable[[str, list[str], int], None] | None = None  # (trace id, its mids, users held here)

    def publish(self, uid: int, notice: dict) -> None:
        """Send notice to every process that holds a listener of uid; keep its hints a while for pollers."""
        self.publish_many([(uid, notice)])

    def publish_many(self, notices: list[tuple[int, dict]], keep_hints: bool = True,
                     bodies: dict[str, dict] | None = None,
                     fanout: list[tuple[str, list[int], list[int]]] | None = None,
                     groups: list[tuple[str, int, int]] | None = None, stamp: dict | None = None) -> None:
        """Publish several (uid, notice) as one message, in one round trip.

        keep_hints: also keep each notice's hints a while (hints.py), for pollers between two requests.
        Without it the hints are live only (pushed to WebSockets), as a send's unread hint: a poller
        learns of the message itself by seq, and counts it.
        bodies: the messages the notices' events name by key ([seq, key]), each published once.
        fanout: (key, uids, seqs) of messages that reach many timelines: an event [seq, key] for each uid.
        groups: (key, gid, gseq) of messages in a large group's own timeline: heard by its members' listeners.
        stamp: with bodies, {"at": the commit's time, "trace": an id}, either optional: each notice and group event
        delivered from the payload carries them (the send-to-push latency, one message's trace across processes).
        """
        payload = Payload(notices, bodies, fanout or [], groups or [], stamp or {}).encode()
        if not keep_hints:
            self.client.publish(self.keys.notices, payload)
            return
        with self.client.pipeline(transaction=False) as pipe:
            for uid, notice in notices:
                if notice.get("hints"):
                    self.hints.keep(pipe, uid, notice["hints"])
            pipe.publish(self.keys.notices, payload)
            pipe.execute()

    def hints_after(self, uid: int, cursor: str | None) -> tuple[list[dict], str]:
        """Return the hints for uid after cursor, and the cursor to ask from next (hints.py)."""
        return self.hints.after(uid, cursor)

    def wake_all(self) -> None:
        """Wake every local listener (a lost subscription, a shutdown): each re-reads what it waits for."""
        for _, watcher in self._watchers:
            watcher(0, {"type": "wake"})
        with self._lock:
            everyone = [(uid, list(group)) for uid, group in self._listeners.items()]
            by_group = [listener for group in self._group_listeners.values() for listener in group]
        for uid, group in everyone:
            for listener in group:
                listener({"type": "wake", "uid": uid})
        for listener in by_group:
            listener({"type": "wake"})

    def watch_all(self, key: str, watcher: Callable[[int, dict], None]) -> None:
        """Call watcher(uid, notice) with every notice this process hears that has key (a logout, say), for
        any user, and with (0, {"type": "wake"}) when notices may have been lost. (A big group's message is
        hundreds of notices: a watcher hears only those it asked for.)"""
        self._watchers.append((key, watcher))

    def listen(self, uid: int, listener: Listener) -> Callable[[], None]:
        """Call listener with each notice for uid until the returned function is called."""
        with self._lock:
            self._listeners.setdefault(uid, set()).add(listener)

        def stop() -> None:
            with self._lock:
                group = self._listeners.get(uid)
                if group is not None:
                    group.discard(listener)
                    if not group:
                        del self._listeners[uid]
        return stop

    def listen_group(self, gid: int, listener: Listener) -> Callable[[], None]:
        """Call listener with the events of large group gid (a notice {"group_events": [...]}) until the
        returned function is called: each process hears a large group's message once and hands it to the
        listeners it holds, never a lookup per member."""
        with self._lock:
            self._group_listeners.setdefault(gid, set()).add(listener)

        def stop() -> None:
            with self._lock:
                group = self._group_listeners.get(gid)
                if group is not None:
                    group.discard(listener)
                    if not group:
                        del self._group_listeners[gid]
        return stop

    def listener_count(self) -> int:
        with self._lock:
            return sum(len(group) for group in self._listeners.values())

    def start(self) -> None:
        """Subscribe, then start the one thread that reads the subscription (PubSub is not thread-safe)."""
        pubsub = self._subscribe()
        self._thread = threading.Thread(target=self._run, args=(pubsub,), name="imdemo-notices", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the listener thread and wait for it."""
        self._stopping.set()
        if self._thread is not None:
            try:
                self.client.publish(self.keys.notices, "[]")  # wakes the blocking read at once
            except redis.RedisError:
                pass
            self._thread.join(timeout=5)

    def _subscribe(self):
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.keys.notices)
        return pubsub

    def _run(self, pubsub) -> None:
        while not self._stopping.is_set():
            try:
                message = pubsub.get_message(timeout=1.0)
            except redis.RedisError as e:
                log.warning("pub/sub connection lost (%s); resubscribing", e)
                pubsub = self._resubscribe(pubsub)
                continue
            if message is not None:
                self._dispatch(message["data"])
        pubsub.close()

    def _resubscribe(self, old):
        """Subscribe again after a lost connection and wake everyone: they re-read what they missed."""
        try:
            old.close()
        except redis.RedisError:
            pass
        while not self._stopping.is_set():
            try:
                pubsub = self._subscribe()
                self.wake_all()
                return pubsub
            except redis.RedisError:
                time.sleep(0.5)
        return old

    def _dispatch(self, data: str) -> None:
        try:
            payload = Payload.decode(data)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("ignored a message on %s that is not a list of notices: %.80r", self.keys.notices, data)
            return
        for key, watcher in self._watchers:
            for uid, notice in payload.notices:
                if key in notice:
                    watcher(uid, notice)
        with self._lock:  # who this process holds: only their notices are made and delivered
            held = set(self._listeners)
            held_groups = set(self._group_listeners) if payload.groups else set()
        notices = payload.for_users(held)
        by_group = payload.for_groups(held_groups)
        with self._lock:
            users = {uid: list(self._listeners.get(uid, ())) for uid in notices}
            groups = {gid: list(self._group_listeners.get(gid, ())) for gid in by_group}
        if "trace" in payload.stamp and self.heard is not None:
            self.heard(payload.stamp["trace"], list(payload.bodies or ()), len(notices) + len(by_group))
        for gid, events in by_group.items():
            self._deliver(groups[gid], {"group_events": events, **payload.stamp})
        for uid, notice in notices.items():
            self._deliver(users[uid], notice)

    @staticmethod
    def _deliver(listeners: list[Listener], notice: dict) -> None:
        for listener in listeners:
            try:
                listener(notice)
            except Exception:  # one broken listener must not silence the others
                log.exception("notice listener failed")
