"""Store layer: each user's settings of a conversation (im_conversation_setting): whether it is muted."""
from __future__ import annotations

import time

import peewee

from .conversation import Conversation
from .database import write_transaction
from .statements import Statements

SQL = {
    "set": "INSERT INTO im_conversation_setting (owner_uid, other_uid, muted, update_time) VALUES (?, ?, ?, ?)"
           " ON CONFLICT (owner_uid, other_uid) DO UPDATE SET muted = excluded.muted,"
           " update_time = excluded.update_time",
    "muted": "SELECT other_uid FROM im_conversation_setting WHERE owner_uid = ? AND muted",
}


class ConversationSettings:
    """What a user set for their conversations."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.sql = Statements(db, SQL)

    def set_muted(self, uid: int, conversation: Conversation, muted: bool) -> None:
        with write_transaction(self.db):
            self.db.execute_sql(self.sql["set"], (uid, conversation.peer, muted, int(time.time() * 1000)))

    def muted(self, uid: int) -> set[Conversation]:
        """The conversations uid has muted."""
        return {Conversation.of_peer(int(peer)) for (peer,) in self.db.execute_sql(self.sql["muted"], (uid,))}
