"""`python -m imdemo.seed --users N --group NAME`: N users with one password hash (seconds, not N scrypts)
and one large group of N members, zhangsan its owner, the last three new users outside it; a server started
after it on the same database serves them with exact unread counts."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import webtest

from imdemo.app import create_app

from .conftest import REAL_POSTGRES, Chat

ROOT = Path(__file__).resolve().parent.parent


def test_the_seed_makes_a_large_group_that_a_server_started_after_it_serves(make_config, database_url, tmp_path):
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "imdemo.seed", "--users", "40", "--group", "万人群", "--database",
                           database_url], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "40 users" in done.stdout and "万人群" in done.stdout
    app = create_app(make_config(database=database_url))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        zhang, member, outsider = (chat.login(name, "1234") for name in ("zhangsan", "u00001", "u00040"))
        [group] = chat.get(zhang, "/api/groups")["groups"]
        assert (group["name"], group["member_count"], group["storage"], group["owner"]) == (
            "万人群", 40, "read", zhang.uid)
        assert chat.get(outsider, "/api/groups")["groups"] == []
        gid = group["gid"]
        chat.post(member, f"/api/groups/{gid}/messages", {"content": "大家好"}, 201)
        assert chat.get(zhang, "/api/unread")["groups"] == {str(gid): 1}
        assert chat.get(member, "/api/unread")["groups"] == {str(gid): 0}
    finally:
        app.close()


def test_the_seed_refuses_a_crowd_bigger_than_a_group_may_be(database_url):
    done = subprocess.run([sys.executable, "-m", "imdemo.seed", "--users", "20000", "--database", database_url],
                          cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--users must be between" in done.stderr
    assert REAL_POSTGRES or not Path(database_url.removeprefix("sqlite:///")).exists()
