"""Services layer: the rules of each kind of conversation, and the names a caller gives one.

A conversation is named by its cid (`u1001`, `g7`, SPEC section 14) or, on the older routes and frames, by a
uid (`to`, `with`, a path's uid) or a gid. What differs between a 1:1 chat and a group is said here once,
as a property of the kind: who may read it, what refuses a message, which read marks a page shows, and who
is told of a read. The way of a message itself (messages.py) never asks which kind it has.
"""
from __future__ import annotations

from ..store.conversation import Conversation
from ..store.direct import DirectStorage
from ..store.errors import NotAMember, UnknownGroup, UnknownUser
from ..store.groups import GroupStorage
from ..store.reader import MessageReader
from ..store.unread import Read
from . import checks
from .errors import BadInput, Forbidden, ImdemoError, NotFound

REFUSALS = (UnknownUser, UnknownGroup, NotAMember)  # what the store reports of a conversation one cannot use


def named(cid) -> Conversation:
    """The conversation a path names: a cid (u<uid>, g<gid>), or a bare uid (the 1:1 chat, as before cids)."""
    conversation = Conversation.parse(cid)
    return conversation if conversation is not None else direct(cid)


def direct(uid, name: str = "uid") -> Conversation:
    """The 1:1 conversation with the user a field names (to, with, uid)."""
    return Conversation.direct(checks.integer(uid, name, 1))


def group(gid) -> Conversation:
    return Conversation.group(checks.integer(gid, "gid", 1))


class DirectRules:
    """A 1:1 chat: between two users, both always in it."""

    def __init__(self, direct_rows: DirectStorage, reader: MessageReader):
        self.rows, self.reader = direct_rows, reader

    def may_send(self, sender: int, conversation: Conversation) -> None:
        if conversation.id == sender:
            raise BadInput("you cannot send a message to yourself", "self_message")

    def readable(self, uid: int, conversation: Conversation) -> None:
        """404 for a user who does not exist."""
        if not self.reader.user_exists(conversation.id):
            raise NotFound(f"no user with uid {conversation.id}", "no_such_user")

    def may_mention(self, conversation: Conversation) -> None:
        raise BadInput("mentions are for groups", "mentions_in_group_only")

    def audience(self, uid: int, conversation: Conversation, most: int) -> list[int]:
        """Who sees uid typing here: the other user (400 yourself, 404 nobody)."""
        self.may_send(uid, conversation)
        self.readable(uid, conversation)
        return [conversation.id]

    def refused(self, conversation: Conversation, e: Exception) -> ImdemoError:
        return NotFound(f"no user with uid {conversation.id}", "no_such_user")

    def marks(self, uid: int, conversation: Conversation, state) -> dict:
        """How far the other user has read, and received, the conversation."""
        peer_read, peer_delivered = self.rows.peer_marks(uid, conversation.id)
        # read implies received
        return {"peer_read_mid": peer_read, "peer_delivered_mid": max(peer_delivered, peer_read)}

    def read_notices(self, uid: int, conversation: Conversation, read: Read) -> list[tuple[int, dict]]:
        """The reader's sessions get the unread hint (and the read); the other user the read receipt."""
        other = conversation.id
        hint = {"type": "unread", "total": read.total, "conversation": {"uid": other, "unread": read.unread}}
        if not read.moved:
            return [(uid, {"hints": [hint]})]
        return [(uid, {"hints": [{"type": "read", "with": other, "by": uid, "up_to": read.read_mid}, hint]}),
                (other, {"hints": [{"type": "read", "with": uid, "by": uid, "up_to": read.read_mid}]})]


class GroupRules:
    """A group: its members, each from the moment they joined; a former member keeps what they had."""

    def __init__(self, groups: GroupStorage):
        self.groups = groups

    def may_send(self, sender: int, conversation: Conversation) -> None:
        """Membership is checked under the group's lock, in the commit."""

    def readable(self, uid: int, conversation: Conversation) -> bool:
        """True for a member, False for a former one; 404 for anyone else (a group one never belonged to is
        not shown to exist)."""
        gid = conversation.id
        state = self.groups.was_member(gid, uid) if self.groups.group(gid) is not None else None
        if state is None:
            raise NotFound(f"no group {gid}", "no_such_group")
        return state

    def member(self, uid: int, conversation: Conversation) -> None:
        """Nothing for a current member; 403 for a former one, 404 for anyone else."""
        if not self.readable(uid, conversation):
            raise self.refused(conversation, NotAMember(conversation.id, uid, former=True))

    def may_mention(self, conversation: Conversation) -> None:
        """Members and everyone may be mentioned (checked in the commit: mentions.py)."""

    def audience(self, uid: int, conversation: Conversation, most: int) -> list[int] | None:
        """Who sees uid typing here: the other current members, or None in a group of more than most (403 for a
        former member, 404 for anyone else)."""
        self.member(uid, conversation)
        group = self.groups.group(conversation.id)
        if group is None or group.member_count > most:
            return None
        return [m.uid for m in self.groups.members(conversation.id) if m.uid != uid]

    def refused(self, conversation: Conversation, e: Exception) -> ImdemoError:
        """403 for a former member, 404 for anyone else."""
        if isinstance(e, NotAMember) and e.former:
            return Forbidden(f"you are no longer a member of group {conversation.id}", "not_a_member")
        return NotFound(f"no group {conversation.id}", "no_such_group")

    def marks(self, uid: int, conversation: Conversation, member: bool) -> dict:
        """The members' read marks, for "read by k of n": the current members', or for a former member those
        of the members they left behind, as far as the message that removed them. A large group shows none:
        thousands of marks on every page is what read diffusion exists to avoid."""
        gid = conversation.id
        if self.groups.is_large(gid):
            return {"read_marks": {}}
        marks = ({m.uid: m.read_mid for m in self.groups.members(gid)} if member
                 else self.groups.read_marks_when_left(gid, uid))
        return {"read_marks": {str(member): mid for member, mid in marks.items()}}

    def read_notices(self, uid: int, conversation: Conversation, read: Read) -> list[tuple[int, dict]]:
        """The reader's sessions get the unread hint (and the read); the senders of the messages it covers
        the read (their screens show who has read)."""
        gid = conversation.id
        hint = {"type": "unread", "total": read.total, "conversation": {"group": gid, "unread": read.unread}}
        if not read.moved:
            return [(uid, {"hints": [hint]})]
        seen = {"type": "read", "group": gid, "by": uid, "up_to": read.read_mid}
        if self.groups.is_large(gid):  # no "read by" in a large group: the reader's own sessions only
            return [(uid, {"hints": [seen, hint]})]
        senders = self.groups.senders_between(uid, gid, read.before, read.read_mid)
        return [(uid, {"hints": [seen, hint]})] + [(s, {"hints": [seen]}) for s in senders if s != uid]
