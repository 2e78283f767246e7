"""Business rules: auth, the way of a message (send, history, read), contacts and unread counts, groups, sync,
files and uploads. They raise ImdemoError subclasses."""
from __future__ import annotations

from dataclasses import dataclass

from ..store.reconcile import Reconciler
from .auth import AuthService
from .contacts import ContactService
from .delivery_watch import NO_WATCH, DeliveryWatch
from .files import FileService
from .groups import GroupService
from .inspect import Inspector
from .messages import MessageService
from .search import SearchService
from .signals import SignalService
from .sync import SyncService
from .typing import TypingService
from .uploads import UploadService


@dataclass(frozen=True)
class Services:
    """Every service of one app, as create_app wires them; the API layer receives this."""

    auth: AuthService
    messages: MessageService
    contacts: ContactService
    groups: GroupService
    sync: SyncService
    reconciler: Reconciler
    inspector: Inspector | None = None  # None when the inspector is off
    search: SearchService | None = None
    watch: DeliveryWatch = NO_WATCH  # the metrics (and the message trace) of deliveries
    files: FileService | None = None
    uploads: UploadService | None = None
    signals: SignalService | None = None  # recall and edit (create_app always wires it)
    typing: TypingService | None = None
