"""Test helper: what the tables must hold after any traffic with groups (SPEC sections 9 and 11), checked
from plain SELECTs with no parameters, so one helper serves an app's peewee database, a sqlite3 file of a
killed process and a PostgreSQL database shared by two processes.

The membership a message was written under is replayed from the group's own system messages in gseq
order ("created", "added", "removed", "left", "owner", "renamed"): every message must have reached
exactly the members of that moment (the added user from the message that added them on, the removed one
up to the message that removed them), which is what a user depends on when they are removed or re-join.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

Query = Callable[[str], list]
SENT, RECEIVED, NOTICE = 0, 1, 2


def peewee_query(db) -> Query:
    return lambda sql: db.execute_sql(sql).fetchall()


@dataclass
class Tables:
    """The rows the checks need, read once."""

    seq_of: dict[int, int]  # im_user.seq
    rows: dict[int, list[tuple[int, int, int, int]]]  # owner -> [(seq, other, mid, type)] in seq order
    contents: dict[int, tuple]  # mid -> (sender, recipient, msg_type, client_msg_id, gseq, event)
    groups: dict[int, tuple]  # gid -> (gseq, last_mid, member_count, owner_uid)
    members: dict[tuple[int, int], tuple]  # (gid, uid) -> (role, joined_mid, left_mid, read_mid)
    read_mids: dict[tuple[int, int], int]  # (owner, other uid) -> im_msg_contact.read_mid
    by_mid: dict[int, dict[int, int]] = field(default_factory=dict)  # mid -> {owner: relation type}

    def __post_init__(self):
        for owner, timeline in self.rows.items():
            for _, _, mid, kind in timeline:
                self.by_mid.setdefault(mid, {})[owner] = kind

    @classmethod
    def read(cls, query: Query) -> Tables:
        rows = defaultdict(list)
        for owner, other, mid, kind, seq in query("SELECT owner_uid, other_uid, mid, type, seq FROM im_msg_relation"):
            rows[int(owner)].append((int(seq), int(other), int(mid), int(kind)))
        for timeline in rows.values():
            timeline.sort()
        contents = {int(r[0]): (int(r[1]), int(r[2]), int(r[3]), r[4], None if r[5] is None else int(r[5]), r[6])
                    for r in query("SELECT mid, sender_id, recipient_id, msg_type, client_msg_id, gseq, event"
                                   " FROM im_msg_content")}
        return cls(
            {int(u): int(s) for u, s in query("SELECT uid, seq FROM im_user")}, dict(rows), contents,
            {int(g): tuple(int(x) for x in rest)
             for g, *rest in query("SELECT gid, gseq, last_mid, member_count, owner_uid FROM im_group")},
            {(int(g), int(u)): (int(role), int(joined), None if left is None else int(left), int(read))
             for g, u, role, joined, left, read in query(
                "SELECT gid, uid, role, joined_mid, left_mid, read_mid FROM im_group_member")},
            {(int(o), int(p)): int(r)
             for o, p, r in query("SELECT owner_uid, other_uid, read_mid FROM im_msg_contact")})

    def group_messages(self, gid: int) -> list[tuple[int, int]]:
        """(gseq, mid) of group gid's messages, in gseq order."""
        return sorted((c[4], mid) for mid, c in self.contents.items() if c[1] == -gid)

    def audience_of(self, mid: int) -> dict[int, int]:
        """owner -> relation type of every row of message mid."""
        return self.by_mid.get(mid, {})


@dataclass
class Replay:
    """A group's membership as its system messages tell it, message by message."""

    members: set[int] = field(default_factory=set)
    owner: int = 0
    joined: dict[int, int] = field(default_factory=dict)  # uid -> mid of the message that last added them
    left: dict[int, int] = field(default_factory=dict)  # uid -> mid of the message that last removed them

    def audience(self, mid: int, sender: int, event: str | None) -> set[int]:
        """Apply one message; return whom it must have reached."""
        if event is None:  # a text message: its sender is a member, every member gets it
            assert sender in self.members, f"mid {mid}: {sender} sent into a group they were not in"
            return set(self.members)
        e = json.loads(event)
        kind, uids = e["type"], set(e["uids"])
        if kind == "created":
            self.owner, self.members = e["by"], {e["by"], *uids}
            self.joined.update((u, mid) for u in self.members)
            return set(self.members)
        if kind == "added":
            assert not uids & self.members, f"mid {mid}: added members already in"
            self.members |= uids
            self.joined.update((u, mid) for u in uids)
            return set(self.members)
        reached = set(self.members)
        if kind in ("removed", "left"):
            assert uids <= self.members, f"mid {mid}: removed someone who was not a member"
            self.members -= uids
            self.left.update((u, mid) for u in uids)
        elif kind == "owner":
            (self.owner,) = uids
        return reached


def check_tables(query: Query) -> dict[int, dict]:
    """Assert every invariant of the timelines and groups on the tables; return each user's unread as the
    database counts it, shaped as GET /api/unread answers."""
    t = Tables.read(query)
    _check_timelines(t)
    for gid in t.groups:
        _check_group(t, gid)
    _check_same_order(t)
    return {uid: _unread(t, uid) for uid in t.seq_of}


def _check_timelines(t: Tables) -> None:
    """Every user's seqs are 1..n (n their im_user.seq); a 1:1 message has its two rows, sent and received."""
    for uid, last in t.seq_of.items():
        assert [seq for seq, *_ in t.rows.get(uid, [])] == list(range(1, last + 1)), f"{uid}'s seqs have a gap"
    for mid, (sender, recipient, *_) in t.contents.items():
        if recipient > 0:
            assert t.audience_of(mid) == {sender: SENT, recipient: RECEIVED}, f"1:1 mid {mid}"


def _check_group(t: Tables, gid: int) -> None:
    """gseqs 1..n in mid order; each message reached exactly the members of its moment, with the right type;
    the membership rows and the group's row agree with the replayed system messages."""
    gseq, last_mid, member_count, owner = t.groups[gid]
    messages = t.group_messages(gid)
    assert [g for g, _ in messages] == list(range(1, len(messages) + 1)), f"group {gid}'s gseqs have a gap"
    assert [m for _, m in messages] == sorted(m for _, m in messages), f"group {gid}: gseq order is not mid order"
    assert (gseq, last_mid) == (len(messages), messages[-1][1] if messages else 0), f"group {gid}'s row"
    replay = Replay()
    for _, mid in messages:
        sender, _, msg_type, _, _, event = t.contents[mid]
        reached = replay.audience(mid, sender, event if msg_type == 1 else None)
        expected = {u: NOTICE if msg_type == 1 else SENT if u == sender else RECEIVED for u in reached}
        assert t.audience_of(mid) == expected, f"group {gid} mid {mid}: reached {t.audience_of(mid)}, not {expected}"
    assert member_count == len(replay.members), f"group {gid}: member_count"
    current = {u for (g, u), row in t.members.items() if g == gid and row[2] is None}
    assert current == replay.members, f"group {gid}: membership rows {current}, events say {replay.members}"
    if replay.members:
        assert owner == replay.owner, f"group {gid}: owner {owner}, events say {replay.owner}"
    for (g, uid), (role, joined, left, read) in t.members.items():
        if g != gid:
            continue
        assert joined == replay.joined[uid] and read >= joined, f"group {gid}: {uid}'s join point"
        assert left == (None if uid in replay.members else replay.left[uid]), f"group {gid}: {uid}'s leave point"
        assert role == (1 if uid in replay.members and uid == replay.owner else 0), f"group {gid}: {uid}'s role"


def _check_same_order(t: Tables) -> None:
    """Per member, seq order is gseq order; so any two members see their common messages in one order."""
    gseq_of = {mid: c[4] for mid, c in t.contents.items() if c[1] < 0}
    seen: dict[int, dict[int, list[int]]] = defaultdict(dict)  # gid -> uid -> mids in the uid's seq order
    for uid, timeline in t.rows.items():
        for _, other, mid, _ in timeline:
            if other < 0:
                seen[-other].setdefault(uid, []).append(mid)
    for gid, by_user in seen.items():
        for uid, mids in by_user.items():
            gseqs = [gseq_of[m] for m in mids]
            assert gseqs == sorted(gseqs), f"group {gid}: {uid}'s timeline is not in gseq order"
        users = sorted(by_user)
        for i, a in enumerate(users):
            for b in users[i + 1:]:
                common = set(by_user[a]) & set(by_user[b])
                assert [m for m in by_user[a] if m in common] == [m for m in by_user[b] if m in common], \
                    f"group {gid}: {a} and {b} see their common messages in different orders"


def _unread(t: Tables, uid: int) -> dict:
    """What uid has unread, counted here from the rows: received after the read marker, in each 1:1
    conversation (marker in the contact row) and each current group (marker in the membership row)."""
    received = defaultdict(list)
    for _, other, mid, kind in t.rows.get(uid, []):
        if kind == RECEIVED:
            received[other].append(mid)
    conversations = {str(o): n for (owner, o), read in t.read_mids.items() if owner == uid
                     if (n := sum(m > read for m in received[o]))}
    groups = {str(g): n for (g, u), (_, _, left, read) in t.members.items() if u == uid and left is None
              if (n := sum(m > read for m in received[-g]))}
    return {"total": sum(conversations.values()) + sum(groups.values()), "conversations": conversations,
            "groups": groups}


def counters_in_redis(client, prefix: str, uid: int) -> dict:
    """uid's `{uid}_T` and `{uid}_C` as stored, shaped as GET /api/unread answers (fields "<uid>", "g<gid>")."""
    fields = {k: int(v) for k, v in client.hgetall(f"{prefix}{uid}_C").items() if int(v)}
    return {"total": int(client.get(f"{prefix}{uid}_T") or 0),
            "conversations": {k: n for k, n in fields.items() if not k.startswith("g")},
            "groups": {k[1:]: n for k, n in fields.items() if k.startswith("g")}}
