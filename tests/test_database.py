"""store/database.py on SQLite: every pooled connection gets the same pragmas (a checkpoint every 10,000 WAL
pages instead of 1,000), a connection's page cache is big only while it writes (the pages a big group's rows
need) and shrinks back after, and a server killed while its WAL holds group commits not yet checkpointed
restarts with every one of them."""
from __future__ import annotations

import threading

import pytest
import webtest

from imdemo.app import create_app
from imdemo.store.database import REST_CACHE_KIB, WRITE_CACHE_KIB, open_database, write_transaction

from .conftest import REAL_POSTGRES, Chat
from .processes import Process

sqlite_only = pytest.mark.skipif(bool(REAL_POSTGRES), reason="SQLite's pragmas; PostgreSQL has none of them")


def pragma(db, name: str):
    return db.execute_sql(f"PRAGMA {name}").fetchone()[0]


@sqlite_only
def test_every_pooled_connection_checkpoints_every_10000_pages_and_rests_with_a_small_cache(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'imdemo.db'}")
    seen = []

    def look() -> None:  # a thread of its own, so a connection of its own
        with db.connection_context():
            seen.append((pragma(db, "wal_autocheckpoint"), pragma(db, "journal_mode"), pragma(db, "cache_size")))
    threads = [threading.Thread(target=look) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.close_all()
    assert seen == [(10_000, "wal", -REST_CACHE_KIB)] * 3


@sqlite_only
def test_a_connection_has_the_big_page_cache_only_while_it_writes(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'imdemo.db'}")
    try:
        with db.connection_context():
            with write_transaction(db):
                inside = pragma(db, "cache_size")
                with write_transaction(db):  # nested: still the writer's cache
                    nested = pragma(db, "cache_size")
                after_nested = pragma(db, "cache_size")
            rest = pragma(db, "cache_size")
            with pytest.raises(RuntimeError), write_transaction(db):
                raise RuntimeError("a failed write rolls back")
            after_failure = pragma(db, "cache_size")
    finally:
        db.close_all()
    assert (inside, nested, after_nested) == (-WRITE_CACHE_KIB,) * 3
    assert (rest, after_failure) == (-REST_CACHE_KIB,) * 2
    assert WRITE_CACHE_KIB >= 16 * 1024  # a 500-member message touches ~6 MB of index pages a commit


@sqlite_only
def test_a_server_killed_with_group_commits_in_its_wal_restarts_with_all_of_them(make_config, tmp_path):
    url = make_config().database
    app = create_app(make_config())
    owner = Chat(webtest.TestApp(app.wsgi)).register("owner")  # a cheap password hash (the tests' cost)
    others = [app.services.auth.users.create(f"member_{i:03d}", f"member {i}", "not-a-login").uid for i in range(149)]
    app.close()
    flags = ("--database", url, "--no-demo", "--send-rate", "0", "--register-rate", "0")
    server = Process(*flags, cwd=tmp_path).wait_ready()
    try:
        token = server.http.ok("POST", "/api/login", {"username": "owner", "password": "pw1234"})["token"]
        gid = server.http.ok("POST", "/api/groups", {"name": "wal", "members": others}, token=token)["group"]["gid"]
        sent = [server.http.ok("POST", f"/api/groups/{gid}/messages", {"content": f"m{i}"}, token=token)["message"]
                for i in range(30)]  # 150 rows in each of the relation table's four b-trees a message
    finally:
        server.kill()  # no shutdown: what is acknowledged is in the WAL, checkpointed or not
    again = Process(*flags, cwd=tmp_path).wait_ready()
    try:
        page = again.http.ok("GET", f"/api/groups/{gid}/messages?limit=100", token=token)
        assert [m["mid"] for m in page["messages"] if m["kind"] == "text"] == [m["mid"] for m in sent]
        db = open_database(url)
        try:
            seqs = dict(db.execute_sql("SELECT uid, seq FROM im_user").fetchall())
            rows = db.execute_sql("SELECT COUNT(*) FROM im_msg_relation WHERE other_uid = ?", (-gid,)).fetchone()[0]
        finally:
            db.close_all()
        assert rows == 31 * 150  # the message that made the group and the 30 texts, a row per member each
        assert all(seqs[uid] == 31 for uid in [owner.uid, *others])  # every timeline gapless to its end
    finally:
        again.stop()


@sqlite_only
def test_a_transaction_of_a_few_rows_keeps_the_resting_cache(tmp_path):
    """A 1:1 commit or a read mark writes a handful of rows: it spares the two PRAGMAs that size the cache."""
    db = open_database(f"sqlite:///{tmp_path / 'imdemo.db'}")
    try:
        with db.connection_context():
            with write_transaction(db, many_rows=False):
                inside = pragma(db, "cache_size")
            with write_transaction(db):
                big = pragma(db, "cache_size")
    finally:
        db.close_all()
    assert (inside, big) == (-REST_CACHE_KIB, -WRITE_CACHE_KIB)
