"""Store layer: small notices for users, over pub/sub, fanned out to this process's listeners.

A notice says what happened to a user (a new seq, a read marker, an unread hint) and may carry the message
events it announces, so a listener that expects exactly those seqs needs no database read; a missed notice
costs latency, never a message (the database has everything by seq). Every process hears every user's
notices (it may hold any user's connections), so the notices of one action, or of a whole group commit,
travel together as one PUBLISH on one channel, in one of two shapes:

    [[uid, notice], ...]                                   hints, a logout: small, nothing shared
    {"bodies": {key: body}, "notices": [[uid, notice], ...],   messages: each body once, however many
     "fanout": [[key, [uid, ...], [seq, ...]], ...]}       members it reaches; an event in a notice is
                                                           [seq, key] and is handed to listeners as
                                                           {"type": "message", "seq": seq, "message": body}
                                                           (a signal's as what it did: message.py event_of)

A group's message reaches hundreds of timelines with nothing else to say to them, so it goes in "fanout"
(optional): its members and their seqs as two plain lists, not a notice each (for 500 members a third of the
bytes, and far less to build and to parse); each local member's events are made from them on arrival.

One listener thread per process reads that channel and hands each notice to its user's local listeners.
The same code path works in-process (fakeredis) and across processes (Redis).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import redis

from .keyvalue import Keys
from .message import event_of

log = logging.getLogger(__name__)
Listener = Callable[[dict], None]
HINTS_KEPT = 100  # per user
HINTS_SECONDS = 120


class Notifier:
    """Publish notices to users and deliver the notices of local users to their listeners."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys
        self._listeners: dict[int, set[Listener]] = {}
        self._watchers: list[tuple[str, Callable[[int, dict], None]]] = []  # (key, watcher): every user's
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self, uid: int, notice: dict) -> None:
        """Send notice to every process that holds a listener of uid; keep its hints a while for pollers."""
        self.publish_many([(uid, notice)])

    def publish_many(self, notices: list[tuple[int, dict]], keep_hints: bool = True,
                     bodies: dict[str, dict] | None = None,
                     fanout: list[tuple[str, list[int], list[int]]] | None = None) -> None:
        """Publish several (uid, notice) as one message, in one round trip.

        keep_hints: also keep each notice's hints for HINTS_SECONDS, for pollers between two requests.
        Without it the hints are live only (pushed to WebSockets), as a send's unread hint: a poller
        learns of the message itself by seq, and counts it.
        bodies: the messages the notices' events name by key ([seq, key]), each published once.
        fanout: (key, uids, seqs) of messages that reach many timelines: an event [seq, key] for each uid.
        """
        shaped = notices if bodies is None else {"bodies": bodies, "notices": notices}
        if fanout:
            shaped["fanout"] = fanout
        payload = json.dumps(shaped, ensure_ascii=False, separators=(",", ":"))
        if not keep_hints:
            self.client.publish(self.keys.notices, payload)
            return
        with self.client.pipeline(transaction=False) as pipe:
            for uid, notice in notices:
                for hint in notice.get("hints", ()):
                    pipe.xadd(self.keys.hints(uid), {"h": json.dumps(hint, separators=(",", ":"))},
                              maxlen=HINTS_KEPT, approximate=True)
                if notice.get("hints"):
                    pipe.expire(self.keys.hints(uid), HINTS_SECONDS)
            pipe.publish(self.keys.notices, payload)
            pipe.execute()

    def hints_after(self, uid: int, cursor: str | None) -> tuple[list[dict], str]:
        """Return the hints for uid after cursor, and the cursor to ask from next.

        Hints (read, delivered, unread) are live, not durable: a poller that was between two requests
        when one was published finds it here for HINTS_SECONDS. Without a cursor, start from now.
        """
        key = self.keys.hints(uid)
        if not cursor:
            newest = self.client.xrevrange(key, "+", "-", count=1)
            return [], newest[0][0] if newest else "0-0"
        entries = self.client.xrange(key, "(" + cursor, "+", count=HINTS_KEPT)
        return [json.loads(fields["h"]) for _, fields in entries], entries[-1][0] if entries else cursor

    def wake_all(self) -> None:
        """Wake every local listener (a lost subscription, a shutdown): each re-reads what it waits for."""
        for _, watcher in self._watchers:
            watcher(0, {"type": "wake"})
        with self._lock:
            everyone = [(uid, list(group)) for uid, group in self._listeners.items()]
        for uid, group in everyone:
            for listener in group:
                listener({"type": "wake", "uid": uid})

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
            payload = json.loads(data)
            bodies = payload["bodies"] if isinstance(payload, dict) else None
            notices = [(int(uid), notice) for uid, notice in (payload["notices"] if bodies is not None else payload)]
            fanout = [(key, uids, seqs) for key, uids, seqs in (payload.get("fanout", ()) if bodies else ())]
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("ignored a message on %s that is not a list of notices: %.80r", self.keys.notices, data)
            return
        for key, watcher in self._watchers:
            for uid, notice in notices:
                if key in notice:
                    watcher(uid, notice)
        with self._lock:  # who this process holds: only their notices are made and delivered
            mine = {uid: notice for uid, notice in notices if uid in self._listeners}
            reached = [(key, uids, seqs, self._listeners.keys() & uids) for key, uids, seqs in fanout]
            held = mine.keys() | {uid for *_, here in reached for uid in here}
            groups = {uid: list(self._listeners[uid]) for uid in held}
        for key, uids, seqs, here in reached:
            at = dict(zip(uids, seqs, strict=False)) if here else {}
            for uid in here:
                notice = mine.setdefault(uid, {"seq": 0})
                notice.setdefault("events", []).append([at[uid], key])
                notice["seq"] = max(notice.get("seq", 0), at[uid])
        for uid, notice in mine.items():
            if bodies is not None and "events" in notice:  # in seq order, whichever part of the payload named them
                notice["events"] = [event_of(seq, bodies[key], uid) for seq, key in sorted(notice["events"])]
            for listener in groups[uid]:
                try:
                    listener(notice)
                except Exception:  # one broken listener must not silence the others
                    log.exception("notice listener failed")
