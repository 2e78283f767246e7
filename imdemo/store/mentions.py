"""Store layer: mentions in groups (im_mention): a row per member a message mentions (uid 0: everyone, the
owner's @all), written in the message's commit (signals.py). Whether a member has a mention they have not read
is derived from these rows and their read mark, never kept apart, so it is exact across restarts: a mention
counts while it lies past their read mark, is not their own message, and was not recalled."""
from __future__ import annotations

import json

import peewee

EVERYONE = 0  # im_mention.uid of @all
SQL = {
    "insert": "INSERT INTO im_mention (gid, uid, mid) VALUES (?, ?, ?)",
    # By the primary key (gid, uid, mid): for each of uid's groups, a mention of uid or of everyone past the read
    # mark, by someone else, still there.
    "mentioned": "SELECT DISTINCT m.gid FROM im_group_member m JOIN im_mention n ON n.gid = m.gid"
                 f" AND n.uid IN (m.uid, {EVERYONE}) AND n.mid > m.read_mid JOIN im_msg_content c ON c.mid = n.mid"
                 " WHERE m.uid = ? AND m.left_mid IS NULL AND c.sender_id <> m.uid AND c.recalled_by IS NULL",
}


class Mentions:
    """Who group messages mention, and who has a mention not read yet."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def add(self, gid: int, mid: int, mentions: str) -> None:
        """Record whom message mid mentions (Message.mentions' JSON), inside its commit."""
        named = json.loads(mentions)
        uids = [EVERYONE] if named == "all" else sorted(set(named))
        self.db.execute_many(self.sql["insert"], [(gid, uid, mid) for uid in uids])

    def mentioned(self, uid: int) -> set[int]:
        """The gids of uid's groups with a mention of uid (or of everyone) that uid has not read."""
        return {int(gid) for (gid,) in self.db.execute_sql(self.sql["mentioned"], (uid,)).fetchall()}
