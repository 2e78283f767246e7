"""Wiring: create_app(config) is the one place that builds the stores, the services and the routes."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .api.http import build_http_app
from .config import Config
from .services import Services
from .services.auth import AuthService
from .services.contacts import ContactService
from .services.conversations import DirectRules, GroupRules
from .services.demo import seed_demo
from .services.groups import GroupService
from .services.inspect import Inspector
from .services.large_sync import LargeGroupSync
from .services.messages import MessageService
from .services.periodic import Periodic
from .services.sync import SyncService
from .store.announce import Announcer
from .store.attempts import Attempts
from .store.commit import Commit
from .store.conversation import DIRECT, GROUP
from .store.counters import UnreadCounters
from .store.database import open_database, release
from .store.direct import DirectStorage
from .store.groups import GroupStorage
from .store.keyvalue import Keys, connect_redis
from .store.large_counters import LargeCounters
from .store.merge import UnreadMerger
from .store.notices import Notifier
from .store.reader import MessageReader
from .store.reconcile import Reconciler
from .store.rows import Rows
from .store.sessions import SessionStore
from .store.settings import ConversationSettings
from .store.state import StateReader
from .store.trace import Trace
from .store.unread import UnreadCounts
from .store.users import UserStore
from .store.writer import MessageWriter

if TYPE_CHECKING:  # only the layers that use them import bottle, peewee and redis
    import bottle
    import peewee
    import redis

log = logging.getLogger(__name__)


@dataclass
class App:
    """One imdemo process: its config, connections, services and WSGI application."""

    config: Config
    db: peewee.Database
    redis: redis.Redis
    notifier: Notifier
    services: Services
    http: bottle.Bottle
    seeded: bool = False
    housekeeping: Periodic | None = None

    def wsgi(self, environ, start_response):
        """Serve one HTTP request, then give the thread's database connection back to the pool."""
        try:
            return self.http(environ, start_response)
        finally:
            release(self.db)

    def close(self) -> None:
        """Apply the merged unread changes still gathered, stop the notice listener and the housekeeping, and
        close every connection."""
        if self.services.messages.writer.merger is not None:
            self.services.messages.writer.merger.stop()
        if self.housekeeping is not None:
            self.housekeeping.stop()
        self.notifier.stop()
        self.db.close_all()
        self.redis.close()


def _purge(auth: AuthService, db: peewee.Database) -> None:
    try:
        auth.purge_expired_sessions()
    finally:
        release(db)  # the housekeeping thread holds no pooled connection between two periods


def _writer(config: Config, db: peewee.Database, rows: Rows, counters: UnreadCounters, notifier: Notifier,
            kinds: dict, unread: UnreadCounts, reconciler: Reconciler, trace: Trace | None) -> MessageWriter:
    """The one writer, with the merged counting of groups' unread changes (lecture 20) when it is on."""
    merger = (UnreadMerger(counters, config.unread_merge / 1000, reconciler.store_was_lost, trace)
              if config.unread_merge > 0 else None)
    return MessageWriter(db, Commit(db, rows, kinds, counters), Announcer(notifier, kinds), unread,
                         reconciler.store_was_lost, merger, alone=trace.watched if trace is not None else lambda: False)


def create_app(config: Config) -> App:
    """Build an app from config: open the database and the store, wire the services, seed the demo."""
    started = time.monotonic()
    db = open_database(config.database, max_connections=max(32, config.threads // 4))
    client = connect_redis(config.redis)
    keys = Keys(config.redis_prefix)
    trace = Trace() if config.inspector_enabled else None
    if trace is not None:  # wrapped before anything runs, so every statement is seen
        trace.watch_database(db)
        trace.watch_redis(client)
    users, counters, attempts = UserStore(db), UnreadCounters(client, keys), Attempts(client, keys)
    notifier, rows, large = Notifier(client, keys), Rows(db), LargeCounters(client, keys)
    # the kinds of conversation, each storing its messages its own way (SPEC section 14)
    groups = GroupStorage(db, rows, counters, large, merged=config.unread_merge > 0)
    kinds = {DIRECT: DirectStorage(db, rows, counters), GROUP: groups}
    reader = MessageReader(db, {GROUP: groups.large.page})  # a large group keeps a timeline of its own
    unread = UnreadCounts(db, counters, kinds, large, groups.large)
    reconciler = Reconciler(users, unread, counters)
    writer = _writer(config, db, rows, counters, notifier, kinds, unread, reconciler, trace)
    sync = SyncService(users, reader, kinds[DIRECT], counters, notifier, LargeGroupSync(groups, large),
                       release=lambda: release(db))
    inspector = (Inspector(trace, StateReader(db, client, keys, kinds), config.large_group_at)
                 if trace is not None else None)
    if inspector is not None and writer.merger is not None:  # the group view tells waiting changes from drift
        inspector.watch_merges(writer.merger.waiting)
    rules = {DIRECT: DirectRules(kinds[DIRECT], reader), GROUP: GroupRules(kinds[GROUP])}
    services = Services(
        auth=AuthService(users, SessionStore(db, client, keys), attempts, notifier, session_ttl=config.session_ttl,
                         login_attempts=config.login_attempts, login_window=config.login_window,
                         password_cost=config.password_cost, register_rate=config.register_rate),
        messages=MessageService(writer, reader, unread, notifier, attempts, rules, send_rate=config.send_rate),
        contacts=ContactService(users, kinds[DIRECT], kinds[GROUP], counters, ConversationSettings(db), reconciler,
                                sync, notifier, rules),
        groups=GroupService(groups, users, writer, max_members=config.max_group_members,
                            large_at=config.large_group_at),
        sync=sync,
        reconciler=reconciler,
        inspector=inspector,
    )
    if trace is not None:
        for name, script in {**counters.scripts(), **attempts.scripts(), **large.scripts()}.items():
            trace.name_script(script, name)
    reconciler.at_start()
    services.auth.purge_expired_sessions()
    seeded = config.demo and seed_demo(users, services.messages, config.password_cost)
    notifier.start()
    health = {"database": db.__class__.__name__, "store": "redis" if config.redis else "embedded"}
    app = App(config, db, client, notifier, services, build_http_app(services, config, health), seeded)
    release(db)
    app.housekeeping = Periodic(config.session_purge_interval, lambda: _purge(services.auth, db), "session-purge")
    app.housekeeping.start()
    log.info("app built in %.0f ms", (time.monotonic() - started) * 1000)
    return app
