"""A database that is busy for a moment: requests fail with a clear 503 and the service recovers by itself."""
import sqlite3

import pytest

from .conftest import REAL_POSTGRES


@pytest.mark.skipif(bool(REAL_POSTGRES), reason="holds SQLite's write lock from outside the app")
def test_a_database_locked_by_someone_else_answers_503_then_recovers(app, chat, config):
    alice, bob = chat.register("alice"), chat.register("bob")
    chat.send(alice, bob.uid, "before")
    outsider = sqlite3.connect(config.database.removeprefix("sqlite:///"), isolation_level=None)
    outsider.execute("BEGIN EXCLUSIVE")  # another program holds the write lock past the 5 s busy timeout
    try:
        response = chat.client.post_json("/api/messages", {"to": bob.uid, "content": "during"},
                                         headers=alice.headers, status=503)
        assert response.json["error"]["code"] == "unavailable"
        assert response.headers["Retry-After"] == "1"
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
    chat.send(alice, bob.uid, "after")
    history = chat.get(bob, f"/api/conversations/{alice.uid}/messages")["messages"]
    assert [m["content"] for m in history] == ["before", "after"]
    assert chat.get(bob, "/api/unread")["total"] == 2
