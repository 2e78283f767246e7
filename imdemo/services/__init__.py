"""Business rules: auth, messages, contacts and unread counts, groups, sync. They raise ImdemoError subclasses."""
from __future__ import annotations

from dataclasses import dataclass

from .auth import AuthService
from .contacts import ContactService
from .groups import GroupService
from .inspect import Inspector
from .messages import MessageService
from .sync import SyncService
from .unread import Reconciler


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
