"""Services layer: recent contacts (1:1 conversations and groups in one list), unread counts, and each
user's settings of a conversation (muted). Each entry carries the caller's own read mark (a page lands on the
first unread) and a group's whether someone mentioned the caller since (store/mentions.py)."""
from __future__ import annotations

from ..store.conversation import Conversation
from ..store.counters import UnreadCounters
from ..store.direct import DirectStorage
from ..store.groups import GroupStorage
from ..store.mentions import Mentions
from ..store.message import message_view
from ..store.notices import Notifier
from ..store.reconcile import Reconciler
from ..store.settings import ConversationSettings
from ..store.users import UserStore
from .errors import BadInput
from .sync import SyncService
from .views import group_view, user_view


class ContactService:
    """The course's recent-contacts page and its unread badges."""

    def __init__(self, users: UserStore, direct: DirectStorage, groups: GroupStorage, counters: UnreadCounters,
                 settings: ConversationSettings, reconciler: Reconciler, sync: SyncService, notifier: Notifier,
                 rules: dict, mentions: Mentions):
        self.users, self.direct, self.groups, self.counters, self.mentions = users, direct, groups, counters, mentions
        self.settings, self.reconciler, self.sync = settings, reconciler, sync
        self.notifier, self.rules = notifier, rules

    def unread(self, uid: int) -> dict:
        """Return {total, conversations: {"<uid>": n}, groups: {"<gid>": n}} from the fast path: the fields
        of the course's `{uid}_C` hash are other uids and, for groups, `g<gid>`; `{uid}_T` counts both."""
        total, fields, ready = self.counters.read(uid)
        if not ready:
            self.reconciler.store_was_lost()
            total, fields, _ = self.counters.read(uid)
        large = self.groups.large_unread(uid)  # large groups' unread is not in {uid}_T: N - L each
        groups = {f[1:]: n for f, n in fields.items() if f.startswith("g")} | {str(g): n for g, n in large.items()}
        return {"total": total + sum(large.values()),
                "conversations": {f: n for f, n in fields.items() if not f.startswith("g")}, "groups": groups}

    def contacts(self, uid: int, limit: int = 100) -> dict:
        """Return recent contacts newest first, each with its last message and unread count, and the
        caller's newest seq and each of their large groups' newest gseq: a new client starts its sync cursors
        there instead of replaying everything."""
        seq, groups_seq = self.sync.last_seq(uid), self.sync.large.newest_of(uid)
        unread, muted = self.unread(uid), self.settings.muted(uid)
        rows = self.direct.contacts(uid, limit)
        people = self.users.by_uids([other for other, *_ in rows])
        contacts = [(last.mid, {"user": user_view(people[other]), "last_message": message_view(last),
                                "unread": unread["conversations"].get(str(other), 0), "peer_read_mid": peer_read,
                                "peer_delivered_mid": max(peer_delivered, peer_read),  # read implies received
                                "read_mid": read_mid, "muted": Conversation.direct(other) in muted})
                    for other, peer_read, peer_delivered, read_mid, last in rows if other in people]
        mentioned = self.mentions.mentioned(uid)
        contacts += [(last.mid, {"group": group_view(group), "last_message": message_view(last), "member": member,
                                 "unread": unread["groups"].get(str(group.gid), 0), "read_mid": read_mid,
                                 "mentioned": group.gid in mentioned,
                                 "muted": Conversation.group(group.gid) in muted})
                     for group, member, read_mid, last in self.groups.contacts(uid, limit)]
        contacts.sort(key=lambda entry: entry[0], reverse=True)  # mids grow with time across conversations
        return {"total_unread": unread["total"], "contacts": [c for _, c in contacts[:limit]], "seq": seq,
                "groups_seq": groups_seq}

    def set_muted(self, uid: int, conversation: Conversation, muted) -> dict:
        """Mute or unmute a conversation for uid (one they can read); tell uid's other sessions."""
        if not isinstance(muted, bool):
            raise BadInput("muted must be true or false", "invalid_muted")
        self.rules[conversation.kind].readable(uid, conversation)
        self.settings.set_muted(uid, conversation, muted)
        setting = {"conversation": conversation.cid, "muted": muted}
        self.notifier.publish(uid, {"hints": [{"type": "settings", **setting}]})
        return setting
