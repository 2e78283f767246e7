"""Store layer: the conversation, the one name every step of the way of a message uses (SPEC section 14).

A 1:1 chat and a group are both a conversation: a kind and an id. Its cid is `u<uid>` (the 1:1 chat with
that user, seen from the caller's side) or `g<gid>`. The tables keep the course's columns: a message's
conversation is one number, its peer (im_msg_content.recipient_id, im_msg_relation.other_uid), the other
party's uid or, for a group, minus its gid, so one index range (owner_uid, other_uid, mid) reads either
kind. This module is the only place that knows that encoding: everything else asks a Conversation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DIRECT, GROUP = "direct", "group"
PREFIX = {DIRECT: "u", GROUP: "g"}
CID = re.compile(r"([ug])([1-9][0-9]{0,18})")
# SQL fragments for the statements that read many conversations at once (every group of a user, say)
DIRECT_PEERS = "other_uid > 0"  # a relation or contact row of a 1:1 conversation


def group_peer_sql(gid_column: str) -> str:
    """The SQL expression of a group's peer, from a column holding its gid."""
    return f"-{gid_column}"


@dataclass(frozen=True)
class Conversation:
    """A 1:1 conversation with user `id` (from the caller's side), or group `id`."""

    kind: str
    id: int

    @classmethod
    def direct(cls, uid: int) -> Conversation:
        return cls(DIRECT, uid)

    @classmethod
    def group(cls, gid: int) -> Conversation:
        return cls(GROUP, gid)

    @classmethod
    def parse(cls, cid: str) -> Conversation | None:
        """The conversation a cid names, or None when it is not one (`u1001`, `g7`)."""
        match = CID.fullmatch(cid) if isinstance(cid, str) else None
        if match is None:
            return None
        return cls(DIRECT if match[1] == "u" else GROUP, int(match[2]))

    @classmethod
    def of_peer(cls, peer: int) -> Conversation:
        """The conversation a stored peer number names."""
        return cls(DIRECT, peer) if peer > 0 else cls(GROUP, -peer)

    @property
    def cid(self) -> str:
        return f"{PREFIX[self.kind]}{self.id}"

    @property
    def peer(self) -> int:
        """The number the tables store for this conversation."""
        return self.id if self.kind == DIRECT else -self.id

    @property
    def unread_field(self) -> str:
        """Its field of the course's `{uid}_C` hash: the other uid, or `g<gid>`."""
        return str(self.id) if self.kind == DIRECT else f"g{self.id}"

    def seen_by(self, uid: int, sender: int) -> Conversation:
        """This conversation, in which sender wrote, as uid sees it: a 1:1 message's recipient sees u<sender>."""
        return Conversation(DIRECT, sender) if self == Conversation(DIRECT, uid) else self

    def shared_name(self, uid: int) -> str:
        """A name every side gives this conversation, uid being one of them: g<gid>, or u<low>u<high> for a 1:1
        chat (as each of its two users sees it, u<the other>, it has two cids)."""
        if self.kind == GROUP:
            return self.cid
        low, high = sorted((uid, self.id))
        return f"u{low}u{high}"

    def named(self) -> dict:
        """How hints and frames name it: {"uid": u} or {"group": g}."""
        return {"uid": self.id} if self.kind == DIRECT else {"group": self.id}

    @classmethod
    def of_field(cls, field: str) -> Conversation:
        """The conversation an unread field counts."""
        return cls(GROUP, int(field[1:])) if field.startswith("g") else cls(DIRECT, int(field))

    def __str__(self) -> str:
        return self.cid
