"""Services layer: recent contacts (1:1 conversations and groups in one list), unread counts, and marking
a conversation read."""
from __future__ import annotations

from ..store.counters import UnreadCounters
from ..store.errors import UnknownUser
from ..store.groups import GroupStore
from ..store.messages import MessageStore
from ..store.notices import Notifier
from ..store.users import UserStore
from . import checks
from .errors import NotFound
from .sync import SyncService
from .unread import Reconciler
from .views import group_view, message_view, user_view


class ContactService:
    """The course's recent-contacts page and its unread badges."""

    def __init__(self, users: UserStore, messages: MessageStore, groups: GroupStore, counters: UnreadCounters,
                 notifier: Notifier, reconciler: Reconciler, sync: SyncService):
        self.users, self.messages, self.groups, self.counters = users, messages, groups, counters
        self.notifier, self.reconciler, self.sync = notifier, reconciler, sync

    def unread(self, uid: int) -> dict:
        """Return {total, conversations: {"<uid>": n}, groups: {"<gid>": n}} from the fast path: the fields
        of the course's `{uid}_C` hash are other uids and, for groups, `g<gid>`; `{uid}_T` counts both."""
        total, fields, ready = self.counters.read(uid)
        if not ready:
            self.reconciler.store_was_lost()
            total, fields, _ = self.counters.read(uid)
        return {"total": total, "conversations": {f: n for f, n in fields.items() if not f.startswith("g")},
                "groups": {f[1:]: n for f, n in fields.items() if f.startswith("g")}}

    def contacts(self, uid: int, limit: int = 100) -> dict:
        """Return recent contacts newest first, each with its last message and unread count, and the
        caller's newest seq: a new client starts its sync cursor there instead of replaying everything."""
        seq = self.sync.last_seq(uid)
        unread = self.unread(uid)
        rows = self.messages.contacts(uid, limit)
        people = self.users.by_uids([other for other, *_ in rows])
        contacts = [(last.mid, {"user": user_view(people[other]), "last_message": message_view(last),
                                "unread": unread["conversations"].get(str(other), 0), "peer_read_mid": peer_read,
                                "peer_delivered_mid": max(peer_delivered, peer_read)})  # read implies received
                    for other, peer_read, peer_delivered, last in rows if other in people]
        contacts += [(last.mid, {"group": group_view(group), "last_message": message_view(last), "member": member,
                                 "unread": unread["groups"].get(str(group.gid), 0)})
                     for group, member, last in self.groups.contacts(uid, limit)]
        contacts.sort(key=lambda entry: entry[0], reverse=True)  # mids grow with time across conversations
        return {"total_unread": unread["total"], "contacts": [c for _, c in contacts[:limit]], "seq": seq}

    def mark_read(self, uid: int, other, up_to=None) -> dict:
        """Mark uid's conversation with other read up to a mid (default: all); tell both users."""
        other = checks.integer(other, "uid", 1)
        up_to = None if up_to is None else checks.integer(up_to, "up_to", 0)
        try:
            self.users.by_uid(other)
            read_mid, unread, total, moved, _ = self.messages.mark_read(uid, other, up_to)
        except UnknownUser:
            raise NotFound(f"no user with uid {other}", "no_such_user") from None
        hint = {"type": "unread", "total": total, "conversation": {"uid": other, "unread": unread}}
        if moved:
            self.notifier.publish_many([
                (uid, {"hints": [{"type": "read", "with": other, "by": uid, "up_to": read_mid}, hint]}),
                (other, {"hints": [{"type": "read", "with": uid, "by": uid, "up_to": read_mid}]})])
        else:
            self.notifier.publish(uid, {"hints": [hint]})
        return {"unread": unread, "total_unread": total, "read_mid": read_mid}
