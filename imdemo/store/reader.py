"""Store layer: messages read back: a user's timeline after a seq (what every transport syncs from), and a
page of one conversation's history (from the caller's timeline, so join bounds hold by construction, and
from the conversation's own timeline where its kind keeps one: a large group, read_diffusion.py). History
leaves signals out (a recall or an edit shows in its target); the timeline reads an edit with its target, as
it stands now."""
from __future__ import annotations

from dataclasses import replace

import peewee

from .conversation import Conversation
from .message import EDIT, MESSAGE_COLUMNS, SIGNALS, Message

FROM_TIMELINE = f"SELECT {MESSAGE_COLUMNS} FROM im_msg_relation r JOIN im_msg_content c ON c.mid = r.mid"
NOT_SIGNALS = f"c.msg_type NOT IN ({', '.join(str(kind) for kind in sorted(SIGNALS))})"
SQL = {
    "timeline": f"SELECT r.seq, {MESSAGE_COLUMNS} FROM im_msg_relation r JOIN im_msg_content c ON c.mid = r.mid"
                " WHERE r.owner_uid = ? AND r.seq > ? ORDER BY r.seq LIMIT ?",
    "history_before": f"{FROM_TIMELINE} WHERE r.owner_uid = ? AND r.other_uid = ? AND r.mid < ? AND {NOT_SIGNALS}"
                      " ORDER BY r.mid DESC LIMIT ?",
    "history_after": f"{FROM_TIMELINE} WHERE r.owner_uid = ? AND r.other_uid = ? AND r.mid > ? AND {NOT_SIGNALS}"
                     " ORDER BY r.mid LIMIT ?",
    "user_exists": "SELECT 1 FROM im_user WHERE uid = ?",
}


class MessageReader:
    """Timelines and conversations, read by the (owner_uid, seq) and (owner_uid, other_uid, mid) indexes."""

    def __init__(self, db: peewee.Database, own_timelines: dict | None = None):
        self.db = db
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}
        # kind -> page(uid, id, before, after, limit): the messages a conversation keeps in a timeline of its own
        self.own_timelines = own_timelines or {}

    def _all(self, name: str, *params) -> list:
        return self.db.execute_sql(self.sql[name], params).fetchall()

    def timeline(self, uid: int, since: int, limit: int) -> list[tuple[int, Message]]:
        """uid's messages with seq > since, in seq order, as (seq, message); an edit with its target."""
        found = [(int(r[0]), Message.from_row(r[1:])) for r in self._all("timeline", uid, since, limit)]
        return with_targets(self.db, found)

    def history(self, uid: int, conversation: Conversation, before: int | None, after: int | None,
                limit: int) -> list[Message]:
        """Up to limit messages of uid's conversation, ascending by mid: before or after a mid (default: newest)."""
        if after is not None:
            page = [Message.from_row(r) for r in self._all("history_after", uid, conversation.peer, after, limit)]
        else:
            rows = self._all("history_before", uid, conversation.peer, before if before is not None else 2**62, limit)
            page = [Message.from_row(r) for r in reversed(rows)]
        own = self.own_timelines.get(conversation.kind)
        if own is None:
            return page
        merged = sorted({m.mid: m for m in [*page, *own(uid, conversation.id, before, after, limit)]}.values(),
                        key=lambda m: m.mid)
        return merged[:limit] if after is not None else merged[-limit:]

    def user_exists(self, uid: int) -> bool:
        return bool(self._all("user_exists", uid))


def with_targets(db: peewee.Database, found: list[tuple[int, Message]]) -> list[tuple[int, Message]]:
    """(seq or gseq, message) pairs with each edit's target read, as it stands now (its event shows it)."""
    edited = {m.target_mid for _, m in found if m.kind == EDIT}
    if not edited:
        return found
    marks = ", ".join([db.param] * len(edited))
    targets = {int(r[0]): Message.from_row(r) for r in db.execute_sql(
        f"SELECT {MESSAGE_COLUMNS} FROM im_msg_content c WHERE c.mid IN ({marks})", sorted(edited)).fetchall()}
    return [(at, replace(m, target=targets.get(m.target_mid)) if m.kind == EDIT else m) for at, m in found]
