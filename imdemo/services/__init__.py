"""Business rules: auth, the way of a message (send, history, read), contacts and unread counts, groups, sync.
They raise ImdemoError subclasses."""
from __future__ import annotations

from dataclasses import dataclass

from ..store.reconcile import Reconciler
from .auth import AuthService
from .contacts import ContactService
from .groups import GroupService
from .inspect import Inspector
from .messages import MessageService
from .signals import SignalService
from .sync import SyncService
from .typing import TypingService


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
    signals: SignalService | None = None  # recall and edit (create_app always wires it)
    typing: TypingService | None = None
