"""store/timeline.py: a group message bigger than one statement's chunk of rows still writes exactly one
relation row per member, with that member's own next seq and the right type, on every database (SQLite
steps one prepared row at a time, PostgreSQL sends rows in chunks)."""
from __future__ import annotations

import pytest
import webtest

from imdemo.app import create_app
from imdemo.store.models import declare_models
from imdemo.store.rows import CHUNK

from .conftest import Chat

MEMBERS = 2 * CHUNK + 3  # three chunks of rows, the last one short


@pytest.fixture
def big(make_config):
    app = create_app(make_config(max_group_members=MEMBERS, large_group_at=MEMBERS))  # write diffusion at any size
    chat = Chat(webtest.TestApp(app.wsgi))
    owner = chat.register("owner")
    others = [app.services.auth.users.create(f"member_{i:04d}", f"member {i}", "not-a-login").uid
              for i in range(MEMBERS - 1)]
    yield app, chat, owner, others
    app.close()


def rows_of(app, mid: int) -> dict[int, tuple[int, int, int]]:
    """{owner_uid: (other_uid, type, seq)} of one message's relation rows, and each owner's newest seq."""
    m = declare_models(app.db)
    rows = m.MsgRelation.select().where(m.MsgRelation.mid == mid)
    return {r.owner_uid: (r.other_uid, r.type, r.seq) for r in rows}


def test_a_group_message_over_one_chunk_writes_one_row_per_member_with_its_own_seq(big):
    app, chat, owner, others = big
    gid = chat.post(owner, "/api/groups", {"name": "big", "members": others}, status=201)["group"]["gid"]
    sender = chat.login("owner")
    mid = chat.post(sender, f"/api/groups/{gid}/messages", {"content": "to everyone"}, status=201)["message"]["mid"]

    rows = rows_of(app, mid)
    assert sorted(rows) == sorted([owner.uid, *others])  # every member once, nobody else
    m = declare_models(app.db)
    seqs = {u.uid: u.seq for u in m.User.select()}
    assert all(seq == seqs[uid] for uid, (_, _, seq) in rows.items())  # the newest of each timeline
    assert all(seq == 2 for _, _, seq in rows.values())  # after the system message that made the group: gapless
    assert {uid: (other, kind) for uid, (other, kind, _) in rows.items()} == {
        uid: (-gid, 0 if uid == owner.uid else 1) for uid in rows}  # sent by the owner, received by the rest
    created = m.MsgContent.select().where((m.MsgContent.recipient_id == -gid) & (m.MsgContent.msg_type == 1)).get()
    assert {kind for _, kind, seq in rows_of(app, created.mid).values()} == {2}  # a system message: never unread

    last = others[-1]  # a member in the last, short chunk reads it in its timeline at its seq
    events = app.services.sync.sync(last, since=1)["events"]
    assert [(e["seq"], e["message"]["mid"]) for e in events] == [(2, mid)]
