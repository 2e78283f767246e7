"""Bench helper: the rows a stretch of work wrote, counted from the database itself (not from arithmetic).

The message tables only grow, so their new rows are a count. Every other table of the schema is small
here and is read whole before and after: a row written is one that is new or whose columns differ (an
update that left a row as it was is not counted; none of imdemo's writes does that on purpose).
"""
from __future__ import annotations

from playhouse.db_url import connect

# insert-only: content once, relation once per member's timeline (write diffusion), the group's own timeline
# once (read diffusion)
GROWING = ("im_msg_content", "im_msg_relation", "im_group_timeline")
COMPARED = {"im_user": "uid", "im_group": "gid", "im_group_member": "gid, uid",
            "im_msg_contact": "owner_uid, other_uid", "im_session": "token_hash"}


class RowCounter:
    """Snapshots of one database's tables, and the rows written between two of them."""

    def __init__(self, url: str):
        self.url = url

    def snapshot(self) -> dict:
        db = connect(self.url)
        try:
            shot = {t: db.execute_sql(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in GROWING}
            for table, key in COMPARED.items():
                width = len(key.split(","))
                rows = db.execute_sql(f"SELECT {key}, * FROM {table}").fetchall()
                shot[table] = {tuple(r[:width]): tuple(r[width:]) for r in rows}
            return shot
        finally:
            db.close()

    @staticmethod
    def written(before: dict, after: dict) -> dict[str, int]:
        """The rows written from snapshot before to snapshot after, by table."""
        counts = {t: after[t] - before[t] for t in GROWING}
        for table in COMPARED:
            old = before[table]
            counts[table] = sum(1 for key, row in after[table].items() if old.get(key) != row)
        return counts
