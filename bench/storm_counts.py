"""The storm's checks after the load (bench/storm.py): every checked member's GET /api/unread against the
database's own count, and every acknowledged message in the database.

The database's count is the bench's own SQL, read from the database file read-only, written from the rules and
not from the server's statements: a 1:1 chat's and a small group's unread are the received rows of the member's
timeline after their read mark (system messages are notices, never unread); a large group's (SPEC 15) are
others' text messages in the group (its own timeline, and the member's timeline from before it switched) after
the latest of the member's read mark, their join point and their own last text message there.
"""
from __future__ import annotations

import time

from .clients import Http
from .storm_load import read_only

RECEIVED_AFTER_READ = ("SELECT {who}, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = {who} AND"
                       " r.other_uid = {peer} AND r.type = 1 AND r.mid > {mark}) FROM {rows}")
DIRECT = RECEIVED_AFTER_READ.format(who="ct.owner_uid", peer="ct.other_uid", mark="ct.read_mid",
                                    rows="im_msg_contact ct WHERE ct.owner_uid IN ({uids})")
SMALL = RECEIVED_AFTER_READ.format(who="m.uid", peer="-m.gid", mark="m.read_mid", rows=(
    "im_group_member m JOIN im_group g ON g.gid = m.gid WHERE m.left_mid IS NULL AND g.storage = 0"
    " AND m.uid IN ({uids})")).replace("SELECT m.uid,", "SELECT m.uid, m.gid,")
# a large group: the mark is the latest of the read mark, the join point and the member's own last text message
LARGE_MARK = ("MAX(m.read_mid, m.joined_mid, COALESCE((SELECT MAX(o.mid) FROM im_group_timeline o WHERE o.gid ="
              " m.gid AND o.sender_id = m.uid AND o.msg_type = 0), 0), COALESCE((SELECT MAX(s.mid) FROM"
              " im_msg_relation s WHERE s.owner_uid = m.uid AND s.other_uid = -m.gid AND s.type = 0), 0))")
LARGE = ("SELECT m.uid, m.gid, (SELECT COUNT(*) FROM im_group_timeline t WHERE t.gid = m.gid AND t.msg_type = 0"
         f" AND t.sender_id <> m.uid AND t.mid > {LARGE_MARK}) + (SELECT COUNT(*) FROM im_msg_relation r WHERE"
         f" r.owner_uid = m.uid AND r.other_uid = -m.gid AND r.type = 1 AND r.mid > {LARGE_MARK})"
         " FROM im_group_member m JOIN im_group g ON g.gid = m.gid WHERE m.left_mid IS NULL AND g.storage = 1"
         " AND m.uid IN ({uids})")


def truth(url: str, gid: int, uids: list[int]) -> dict[int, tuple[int, int]]:
    """Each of uids' (total unread, unread in group gid) by the database's own count."""
    db, marks = read_only(url), ",".join("?" * len(uids))
    try:
        total, group = dict.fromkeys(uids, 0), dict.fromkeys(uids, 0)
        for uid, n in db.execute(DIRECT.format(uids=marks), uids):
            total[uid] += n
        for statement in (SMALL, LARGE):
            for uid, g, n in db.execute(statement.format(uids=marks), uids):
                total[uid] += n
                group[uid] = n if g == gid else group[uid]
        return {uid: (total[uid], group[uid]) for uid in uids}
    finally:
        db.close()


def served(server, people: list[tuple[int, str]], gid: int) -> dict[int, tuple[int, int]]:
    """Each member's (total, the group's unread) as GET /api/unread serves them."""
    http, counts = Http(server.port), {}
    try:
        for uid, token in people:
            http.token = token
            unread = http.ok("GET", "/api/unread")
            counts[uid] = (unread["total"], unread["groups"].get(str(gid), 0))
    finally:
        http.close()
    return counts


def wrong(server, people: list[tuple[int, str]], gid: int, counts: dict) -> list[int]:
    """The members whose GET /api/unread (total, and the group's) differs from counts."""
    return [uid for uid, pair in served(server, people, gid).items() if pair != counts[uid]]


def checked(people: list[tuple[int, str]], online: int, sample: int | None) -> list[tuple[int, str]]:
    """Every online member and `sample` offline ones spread evenly over the rest (every offline one: None)."""
    offline = people[online:]
    if sample is not None and sample < len(offline):
        offline = [offline[i * len(offline) // sample] for i in range(sample)]
    return people[:online] + offline


def settle(server, people: list, online: int, gid: int, merge_ms: float) -> dict:
    """Check the members' counters against the database once the load has stopped (what the server serves
    first, then the database's count: it no longer changes); recheck the ones that differ until they agree
    or the merge window and 10 s have passed. people: those to check, the first `online` of them connected."""
    stopped, first = time.monotonic(), served(server, people, gid)
    counts = truth(server.database, gid, [uid for uid, _ in people])
    off = first_off = [uid for uid, pair in first.items() if pair != counts[uid]]
    deadline = stopped + merge_ms / 1000 + 10
    while off and time.monotonic() < deadline:
        time.sleep(0.02)
        off = wrong(server, [p for p in people if p[0] in off], gid, counts)
    offline = {uid for uid, _ in people[online:]}
    return {"checked": len(people), "offline": len(offline), "wrong_at_first": len(first_off),
            "wrong": len(off), "wrong_offline": len(offline & set(off)),
            "offline_group_unread": counts[people[-1][0]][1]}


def missing_acknowledged(url: str, client_msg_ids: list[str]) -> int:
    """How many messages the server acknowledged (201, or a `sent` frame) the database does not hold."""
    db = read_only(url)
    try:
        held = {c for (c,) in db.execute("SELECT client_msg_id FROM im_msg_content WHERE client_msg_id IS NOT NULL")}
        return len(set(client_msg_ids) - held)
    finally:
        db.close()
