"""Wiring: create_app(config) is the one place that builds the stores, the services and the routes."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .api.http import build_http_app
from .config import Config
from .metrics import NO_METRICS, Metrics, NoMetrics
from .services import Services
from .services.auth import AuthService
from .services.contacts import ContactService
from .services.conversations import DirectRules, GroupRules
from .services.delivery_watch import DeliveryWatch
from .services.demo import seed_demo
from .services.files import FileAccess, FileService
from .services.groups import GroupService
from .services.inspect import Inspector
from .services.large_sync import LargeGroupSync
from .services.media import Media
from .services.messages import MessageService
from .services.periodic import Periodic
from .services.probes import ensure_probe_accounts
from .services.search import SearchService
from .services.signals import SignalService
from .services.sync import SyncService
from .services.typing import TypingService
from .services.uploads import UploadService
from .store.announce import Announcer
from .store.attempts import Attempts
from .store.blobs import Blobs
from .store.commit import Commit
from .store.conversation import DIRECT, GROUP
from .store.counters import UnreadCounters
from .store.database import open_database, release
from .store.direct import DirectStorage
from .store.files import Files
from .store.groups import GroupStorage
from .store.keyvalue import Keys, connect_redis
from .store.large_counters import LargeCounters
from .store.media_state import MediaState
from .store.mentions import Mentions
from .store.merge import UnreadMerger
from .store.message import Stored
from .store.message_trace import MessageTraces
from .store.notices import Notifier
from .store.reader import MessageReader
from .store.reconcile import Reconciler
from .store.rows import Rows
from .store.search import SearchIndex
from .store.secrets import shared_secret
from .store.sessions import SessionStore
from .store.settings import ConversationSettings
from .store.signals import Signals
from .store.state import StateReader
from .store.trace import Trace
from .store.unread import UnreadCounts
from .store.uploads import Uploads
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
    traces: MessageTraces | None = None

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
        if self.traces is not None:
            self.traces.stop()
        self.db.close_all()
        self.redis.close()


def _purge(services: Services, db: peewee.Database) -> None:
    try:
        services.auth.purge_expired_sessions()
        services.uploads.purge_abandoned()
    finally:
        release(db)  # the housekeeping thread holds no pooled connection between two periods


def _writer(config: Config, db: peewee.Database, rows: Rows, counters: UnreadCounters, notifier: Notifier,
            kinds: dict, unread: UnreadCounts, reconciler: Reconciler, trace: Trace | None, metrics: NoMetrics,
            traces: MessageTraces | None, search: SearchIndex, signals: Signals) -> MessageWriter:
    """The one writer, with the merged counting of groups' unread changes (lecture 20) when it is on."""
    merger = (UnreadMerger(counters, config.unread_merge / 1000, reconciler.store_was_lost, trace)
              if config.unread_merge > 0 else None)
    announcer = Announcer(notifier, kinds, _stamp(metrics, traces))
    return MessageWriter(db, Commit(db, rows, kinds, counters, signals, search), announcer, unread,
                         reconciler.store_was_lost, merger, alone=trace.watched if trace is not None else lambda: False,
                         metrics=metrics)


def _stamp(metrics: NoMetrics, traces: MessageTraces | None):
    """What a commit's notice says of it (announce.py): when it was, for the send-to-push latency, and while an
    inspector watches, its trace id. None: nothing, with the metrics and the inspector off."""
    if not metrics.enabled and traces is None:
        return None

    def stamp(stored: list[Stored]) -> dict:
        stamped = {"at": time.time()} if metrics.enabled else {}
        trace_id = traces.traced(stored) if traces is not None else None
        if trace_id is not None:
            stamped["trace"] = trace_id
        return stamped
    return stamp


def _media(config: Config, db: peewee.Database, trace: Trace | None,
           groups: GroupStorage) -> tuple[FileService, UploadService, MediaState]:
    """Files and uploads (SPEC section 16): bytes in the database as chunk rows, links signed with a secret every
    process of the app shares; what each did is told to the inspector. A file in a message may be read by whoever
    may see the message: in their own timeline, or in a large group's within their join bounds."""
    blobs, files = Blobs(db), Files(db)
    note = trace.annotate if trace is not None else (lambda **info: None)
    access = FileAccess(files)
    access.extend(groups.large.sees_file)
    file_service = FileService(files, blobs, access, shared_secret(db, "file_links"),
                               release=lambda: release(db), note=note)
    upload_rows = Uploads(db, blobs)
    uploads = UploadService(upload_rows, blobs, files, Media(), max_bytes=config.max_upload_mb * 1024 * 1024,
                            note=note)
    return file_service, uploads, MediaState(upload_rows, blobs, files)


def create_app(config: Config) -> App:
    """Build an app from config: open the database and the store, wire the services, seed the demo."""
    started = time.monotonic()
    db = open_database(config.database, max_connections=max(32, config.threads // 4))
    client = connect_redis(config.redis)
    keys = Keys(config.redis_prefix)
    metrics = Metrics() if config.metrics else NO_METRICS
    metrics.time_scripts(client)  # before the trace wraps it: the script's time, not the trace's readings
    trace = Trace() if config.inspector_enabled else None
    if trace is not None:  # wrapped before anything runs, so every statement is seen
        trace.watch_database(db)
        trace.watch_redis(client)
    users, counters, attempts = UserStore(db), UnreadCounters(client, keys), Attempts(client, keys)
    notifier, rows, large = Notifier(client, keys), Rows(db), LargeCounters(client, keys)
    # the kinds of conversation, each storing its messages its own way (SPEC section 14)
    groups = GroupStorage(db, rows, counters, large, merged=config.unread_merge > 0)
    kinds = {DIRECT: DirectStorage(db, rows, counters), GROUP: groups}
    files, uploads, media_state = _media(config, db, trace, groups)
    reader = MessageReader(db, {GROUP: groups.large.page})  # a large group keeps a timeline of its own
    unread = UnreadCounts(db, counters, kinds, large, groups.large)
    mentions = Mentions(db)
    search = SearchIndex(db)  # written by the writer's commits, read by the search service
    # recalls, edits and mentions inside the writer's commits (the index follows a recall and an edit)
    signals = Signals(db, kinds, unread, mentions, search)
    reconciler = Reconciler(users, unread, counters)
    traces = MessageTraces(trace, client, keys, notifier, f"{config.host}:{config.port}") if trace is not None else None
    watch = DeliveryWatch(metrics, traces)
    writer = _writer(config, db, rows, counters, notifier, kinds, unread, reconciler, trace, metrics, traces,
                     search, signals)
    sync = SyncService(users, reader, kinds[DIRECT], counters, notifier, LargeGroupSync(groups, large),
                       release=lambda: release(db), watch=watch)
    inspector = (Inspector(trace, StateReader(db, client, keys, kinds), traces, media_state, config.large_group_at)
                 if trace is not None else None)
    if inspector is not None and writer.merger is not None:  # the group view tells waiting changes from drift
        inspector.watch_merges(writer.merger.waiting)
    rules = {DIRECT: DirectRules(kinds[DIRECT], reader), GROUP: GroupRules(kinds[GROUP])}
    services = Services(
        auth=AuthService(users, SessionStore(db, client, keys), attempts, notifier, session_ttl=config.session_ttl,
                         login_attempts=config.login_attempts, login_window=config.login_window,
                         password_cost=config.password_cost, register_rate=config.register_rate),
        messages=MessageService(writer, reader, unread, notifier, attempts, rules, send_rate=config.send_rate,
                                files=files),
        contacts=ContactService(users, kinds[DIRECT], kinds[GROUP], counters, ConversationSettings(db), reconciler,
                                sync, notifier, rules, mentions),
        groups=GroupService(groups, users, writer, max_members=config.max_group_members,
                            large_at=config.large_group_at),
        sync=sync,
        reconciler=reconciler,
        inspector=inspector,
        search=SearchService(search, rules),
        watch=watch,
        files=files,
        uploads=uploads,
        signals=SignalService(writer, signals, attempts, rules, recall_window=config.recall_window,
                              send_rate=config.send_rate),
        typing=TypingService(rules, notifier, attempts),
    )
    for name, script in {**counters.scripts(), **attempts.scripts(), **large.scripts()}.items():
        metrics.name_script(script, name)
        if trace is not None:
            trace.name_script(script, name)
    reconciler.at_start()
    services.auth.purge_expired_sessions()
    seeded = config.demo and seed_demo(users, services.messages, config.password_cost)
    if config.probe_password:  # after the demo, which is seeded only into a database without users
        ensure_probe_accounts(users, config.probe_password, config.password_cost)
    notifier.start()
    health = {"database": db.__class__.__name__, "store": "redis" if config.redis else "embedded"}
    app = App(config, db, client, notifier, services, build_http_app(services, config, health), seeded,
              traces=traces)
    release(db)
    app.housekeeping = Periodic(config.session_purge_interval, lambda: _purge(services, db), "session-purge")
    app.housekeeping.start()
    log.info("app built in %.0f ms", (time.monotonic() - started) * 1000)
    return app
