"""Store layer: read the raw state of two users for the inspector: their rows in the course's four
tables and their unread keys, next to the database's own count of what is unread."""
from __future__ import annotations

import peewee
import redis

from .keyvalue import Keys
from .message_rows import SQL, unread_field

ROWS = {
    "im_user": "SELECT uid, username, nickname, seq FROM im_user WHERE uid IN (?, ?) ORDER BY uid",
    "im_msg_content": "SELECT mid, sender_id, recipient_id, content, client_msg_id, create_time FROM im_msg_content"
                      " WHERE (sender_id = ? AND recipient_id = ?) OR (sender_id = ? AND recipient_id = ?)"
                      " ORDER BY mid DESC LIMIT 20",
    "im_msg_relation": "SELECT owner_uid, other_uid, mid, type, seq, create_time FROM im_msg_relation"
                       " WHERE (owner_uid = ? AND other_uid = ?) OR (owner_uid = ? AND other_uid = ?)"
                       " ORDER BY mid DESC, owner_uid LIMIT 40",
    "im_msg_contact": "SELECT owner_uid, other_uid, mid, type, read_mid, create_time, update_time FROM im_msg_contact"
                      " WHERE (owner_uid = ? AND other_uid = ?) OR (owner_uid = ? AND other_uid = ?)",
}



class StateReader:
    """Raw rows and keys, exactly as stored."""

    def __init__(self, db: peewee.Database, client: redis.Redis, keys: Keys):
        self.db, self.client, self.keys = db, client, keys

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
        rows = self.db.execute_sql(SQL["unread_of"].replace("?", self.db.param), (uid, uid))
        in_db = {unread_field(int(peer)): int(n) for peer, n, _ in rows if n}
        return {"keys": {total_key: self.client.get(total_key), conv_key: self.client.hgetall(conv_key)},
                "redis_total": int(self.client.get(total_key) or 0),
                "redis_conversations": {o: int(n) for o, n in self.client.hgetall(conv_key).items()},
                "database_total": sum(in_db.values()), "database_conversations": in_db}
