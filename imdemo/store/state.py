"""Store layer: read raw state for the inspector: two users' rows in the course's four tables and their
unread keys, or one group's rows (im_group, im_group_member, its latest messages and their relation rows)
and each member's unread field; always next to the database's own count of what is unread. A recall shows
as its erased row (recalled_by), its own rows (target_mid) and RECALLED relation rows (type 3)."""
from __future__ import annotations

import peewee
import redis

from .conversation import GROUP, Conversation
from .keyvalue import Keys

ROWS = {
    "im_user": "SELECT uid, username, nickname, seq FROM im_user WHERE uid IN (?, ?) ORDER BY uid",
    "im_msg_content": "SELECT mid, sender_id, recipient_id, msg_type, content, client_msg_id, create_time, target_mid,"
                      " recalled_by, edited_at FROM im_msg_content"
                      " WHERE (sender_id = ? AND recipient_id = ?) OR (sender_id = ? AND recipient_id = ?)"
                      " ORDER BY mid DESC LIMIT 20",
    "im_msg_relation": "SELECT owner_uid, other_uid, mid, type, seq, create_time FROM im_msg_relation"
                       " WHERE (owner_uid = ? AND other_uid = ?) OR (owner_uid = ? AND other_uid = ?)"
                       " ORDER BY mid DESC, owner_uid LIMIT 40",
    "im_msg_contact": "SELECT owner_uid, other_uid, mid, type, read_mid, create_time, update_time FROM im_msg_contact"
                      " WHERE (owner_uid = ? AND other_uid = ?) OR (owner_uid = ? AND other_uid = ?)",
}
SHOWN_MEMBERS = 50  # a large group's members are many: the inspector shows the longest-standing ones
GROUP_ROWS = {
    "im_group": "SELECT gid, name, owner_uid, gseq, last_mid, member_count, created_at, storage, counted,"
                " switched_mid FROM im_group WHERE gid = ?",
    "im_group_member": "SELECT gid, uid, role, joined_mid, left_mid, read_mid, joined_at FROM im_group_member"
                       f" WHERE gid = ? ORDER BY joined_mid, uid LIMIT {SHOWN_MEMBERS}",
    "im_group_timeline": "SELECT gid, gseq, mid, sender_id, msg_type, counted FROM im_group_timeline"
                         " WHERE gid = ? ORDER BY gseq DESC LIMIT 20",
    "im_msg_content": "SELECT mid, sender_id, recipient_id, msg_type, gseq, content, event, client_msg_id, create_time,"
                      " target_mid, recalled_by, edited_at, mentions FROM im_msg_content WHERE recipient_id = ?"
                      " ORDER BY mid DESC LIMIT 10",
    "im_msg_relation": "SELECT owner_uid, other_uid, mid, type, seq, create_time FROM im_msg_relation"
                       " WHERE other_uid = ? ORDER BY mid DESC, owner_uid LIMIT 60",
}
# What a current member has not read in the group, counted from the rows (a former member: nothing)
MEMBER_UNREAD = ("SELECT COUNT(*) FROM im_msg_relation r JOIN im_group_member m ON m.uid = r.owner_uid"
                 " AND m.gid = ? AND m.left_mid IS NULL WHERE r.owner_uid = ? AND r.other_uid = ? AND r.type = 1"
                 " AND r.mid > m.read_mid")


class StateReader:
    """Raw rows and keys, exactly as stored."""

    def __init__(self, db: peewee.Database, client: redis.Redis, keys: Keys, kinds: dict):
        self.db, self.client, self.keys, self.kinds = db, client, keys, kinds

    def _rows(self, sql: str, params) -> list[dict]:
        cursor = self.db.execute_sql(sql.replace("?", self.db.param), params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def pair(self, a: int, b: int) -> dict:
        """Return the rows of a and b in the four tables and each one's unread keys and database counts."""
        tables = {"im_user": self._rows(ROWS["im_user"], (a, b))}
        for table in ("im_msg_content", "im_msg_relation", "im_msg_contact"):
            tables[table] = self._rows(ROWS[table], (a, b, b, a))
        return {"tables": tables, "unread": {str(uid): self._unread(uid) for uid in (a, b)}}

    def _unread(self, uid: int) -> dict:
        total_key, conv_key = self.keys.total_unread(uid), self.keys.conversation_unread(uid)
        in_db = {c.unread_field: n for kind in self.kinds.values() for c, n, _ in kind.unread_of(uid) if n}
        return {"keys": {total_key: self.client.get(total_key), conv_key: self.client.hgetall(conv_key)},
                "redis_total": int(self.client.get(total_key) or 0),
                "redis_conversations": {o: int(n) for o, n in self.client.hgetall(conv_key).items()},
                "database_total": sum(in_db.values()), "database_conversations": in_db}

    def group(self, gid: int) -> dict | None:
        """Return group gid's rows and, for each user who was ever a member, the group's field of their
        `{uid}_C` hash next to the database's count; None if there never was such a group."""
        peer = Conversation.group(gid).peer
        tables = {"im_group": self._rows(GROUP_ROWS["im_group"], (gid,))}
        if not tables["im_group"]:
            return None
        tables["im_group_member"] = self._rows(GROUP_ROWS["im_group_member"], (gid,))
        for table in ("im_msg_content", "im_msg_relation"):
            tables[table] = self._rows(GROUP_ROWS[table], (peer,))
        large = bool(tables["im_group"][0]["storage"])
        if large:  # its messages are in its own timeline; its members' unread is N - L
            tables["im_group_timeline"] = self._rows(GROUP_ROWS["im_group_timeline"], (gid,))
        count = self._member_unread_large if large else self._member_unread
        return {"tables": tables, "storage": "read" if large else "write",
                "unread": [count(gid, row) for row in tables["im_group_member"]]}

    def _member_unread_large(self, gid: int, member: dict) -> dict:
        """A large group's member: N - L in Redis beside the database's count from the group's timeline."""
        uid, groups = int(member["uid"]), self.kinds[GROUP]
        current = member["left_mid"] is None
        counted = groups.large.count(uid, gid, int(member["read_mid"]))[1] if current else 0
        return {"uid": uid, "member": current, "key": self.keys.large_accounted(uid), "field": str(gid),
                "redis": groups.large_unread(uid).get(gid, 0), "database": counted}

    def _member_unread(self, gid: int, member: dict) -> dict:
        uid, conversation = int(member["uid"]), Conversation.group(gid)
        field, key = conversation.unread_field, self.keys.conversation_unread(uid)
        (counted,) = self.db.execute_sql(MEMBER_UNREAD.replace("?", self.db.param),
                                         (gid, uid, conversation.peer)).fetchone()
        return {"uid": uid, "member": member["left_mid"] is None, "key": key, "field": field,
                "redis": int(self.client.hget(key, field) or 0), "database": int(counted)}
