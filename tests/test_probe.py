"""The loop probe (lecture 19, Zulip's check_send_receive_time): `python -m imdemo.probe URL` sends a message
around between its two accounts and exits 0/1/2 like a monitoring plugin; the accounts stay out of sight."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from imdemo.services.probes import PROBE_USERS, ensure_probe_accounts
from imdemo.store.users import UserStore

from .helpers import free_port

PASSWORD = "probe-secret-1"


def probe(*args: str, password: str | None = PASSWORD) -> tuple[int, list[str]]:
    """Run the probe as a monitor would; return its exit status and its output's lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMDEMO_")}
    if password is not None:
        env["IMDEMO_PROBE_PASSWORD"] = password
    done = subprocess.run([sys.executable, "-m", "imdemo.probe", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.stderr == "", done.stderr
    return done.returncode, done.stdout.splitlines()


@pytest.fixture
def probed(make_server):
    return make_server(probe_password=PASSWORD)


@pytest.mark.parametrize("transport", ["websocket", "long_poll"])
def test_the_probe_goes_around_and_says_ok_with_the_time(probed, transport):
    _, http = probed
    status, lines = probe(http.base, "--transport", transport, "--warn", "3", "--critical", "6")
    assert status == 0, lines
    assert len(lines) == 1 and lines[0].startswith("OK: probe_a -> probe_b in ") and f"over {transport}" in lines[0]
    assert lines[0].endswith(";3;6;0") and " | time=" in lines[0]  # the plugin's performance data


def test_above_warn_the_probe_warns(probed):
    _, http = probed
    status, lines = probe(http.base, "--warn", "0.000001", "--critical", "6")
    assert (status, lines[0][:8]) == (1, "WARNING:")


def test_a_dead_server_is_critical_in_one_clear_line():
    status, lines = probe(f"http://127.0.0.1:{free_port()}")
    assert status == 2
    assert len(lines) == 1 and lines[0].startswith("CRITICAL: cannot reach http://127.0.0.1:") and \
        "Connection refused" in lines[0]


def test_a_wrong_password_is_critical_in_one_clear_line(probed):
    _, http = probed
    status, lines = probe(http.base, password="not-the-password")
    assert status == 2
    assert lines == [f"CRITICAL: cannot log in as probe_a at {http.base}: wrong password (is it the server's "
                     "--probe-password?)"]


def test_a_server_without_probe_accounts_is_critical_and_no_password_is_unknown(server):
    _, http = server
    status, lines = probe(http.base)
    assert status == 2 and lines[0].startswith("CRITICAL: cannot log in as probe_a")
    status, lines = probe(http.base, password=None)
    assert status == 3 and lines[0].startswith("UNKNOWN: no password")


def test_the_probe_accounts_stay_out_of_everyones_lists_and_their_names_are_taken(probed):
    _, http = probed
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (alice, token), (bob, bob_token) = http.login("alice"), http.login("bob")
    http.ok("POST", "/api/messages", {"to": bob, "content": "hi"}, token=token)
    assert probe(http.base)[0] == 0
    probes = {uid for uid, _, _ in PROBE_USERS}
    assert {u["uid"] for u in http.ok("GET", "/api/users", token=token)["users"]} == {bob}
    assert [c["user"]["uid"] for c in http.ok("GET", "/api/contacts", token=bob_token)["contacts"]] == [alice]
    for name in ("probe_a", "probe_b"):
        status, body, _ = http.call("POST", "/api/register", {"username": name, "password": "pw1234"})
        assert (status, body["error"]["code"]) == (409, "username_taken")
    uid, probe_token = http.login("probe_b", PASSWORD)
    assert uid in probes
    assert http.ok("GET", "/api/unread", token=probe_token)["total"] == 0  # the probe reads what it receives


def test_the_probe_accounts_take_a_changed_password_at_the_next_start(app):
    users = UserStore(app.db)
    ensure_probe_accounts(users, "first", 2**4)
    ensure_probe_accounts(users, "second", 2**4)
    login = app.services.auth.login
    assert login("probe_a", "second", "127.0.0.1")["user"]["uid"] == PROBE_USERS[0][0]
    with pytest.raises(Exception, match="wrong username or password"):
        login("probe_b", "first", "127.0.0.1")
