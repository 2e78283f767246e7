"""The course's group storm, small (issue 13; `python bench/run.py --only storm` is the full one): a group
of 20, a few members connected over WebSocket and acknowledging as the page does, the rest offline,
several members sending at once over HTTP and WebSocket. Every connected member holds every message
once, in gseq order; the offline members' counters equal the database's count, and again after a restart;
with counter merging off and on. Correctness only: no timing is asserted."""
from __future__ import annotations

import json
import threading

import pytest
import websocket

from imdemo.app import create_app

from .helpers import Http, WsClient, wait_for
from .test_groups import unread_in_database

MEMBERS, CONNECTED, SENDERS, EACH = 20, 4, 4, 60


class Reader(threading.Thread):
    """A connected member: acknowledges every message event, keeps the group's messages in arrival order."""

    def __init__(self, url: str, token: str, gid: int):
        super().__init__(daemon=True)
        self.client, self.gid, self.received, self.seqs = WsClient(url), gid, [], []
        self.client.hello(token, 0)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                frame = self.client.recv(timeout=0.5)
            except websocket.WebSocketTimeoutException:  # nothing for a while: look at done again
                continue
            if frame is None:
                return
            if frame.get("type") == "message":
                self.seqs.append(frame["seq"])
                if frame["message"].get("group") == self.gid and frame["message"]["kind"] == "text":
                    self.received.append(frame["message"])
                self.client.send({"type": "ack", "seq": frame["seq"]})


def send_over_http(http: Http, token: str, gid: int, name: str, sent: list) -> None:
    for i in range(EACH):
        body = {"content": f"{name} {i}", "client_msg_id": f"{name}-{i}"}
        sent.append(http.ok("POST", f"/api/groups/{gid}/messages", body, token=token)["message"])


def send_over_websocket(url: str, token: str, gid: int, name: str, sent: list) -> None:
    client = WsClient(url)
    client.hello(token, 10**9)  # a sender only: it asks for nothing old
    try:
        for i in range(EACH):
            client.send({"type": "send", "group": gid, "content": f"{name} {i}", "client_msg_id": f"{name}-{i}"})
            sent.append(client.recv_until(lambda f: f["type"] == "sent")[-1]["message"])
    finally:
        client.close()


@pytest.mark.parametrize("merge_ms", [0, 20], ids=["merging off", "merging on"])
def test_a_storm_in_a_group_reaches_every_connected_member_once_in_order_and_counts_exactly(
        make_server, make_config, merge_ms):
    app, http = make_server(unread_merge=merge_ms, heartbeat=5.0, ack_timeout=2.0)
    url = f"ws://127.0.0.1:{app.config.websocket_port}/"
    users = []
    for i in range(MEMBERS):
        http.ok("POST", "/api/register", {"username": f"m{i:02d}", "password": "pw1234"})
        users.append(http.login(f"m{i:02d}"))
    gid = http.ok("POST", "/api/groups", {"name": "storm", "members": [uid for uid, _ in users[1:]]},
                  token=users[0][1])["group"]["gid"]
    readers = [Reader(url, token, gid) for _, token in users[-CONNECTED:]]
    for reader in readers:
        reader.start()
    sent: list[dict] = []
    senders = [threading.Thread(target=send_over_http if i % 2 else send_over_websocket,
                                args=(http if i % 2 else url, users[i][1], gid, f"s{i}", sent))
               for i in range(SENDERS)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(120)
    assert not any(t.is_alive() for t in senders) and len(sent) == SENDERS * EACH

    by_gseq = sorted(sent, key=lambda m: m["gseq"])
    assert [m["gseq"] for m in by_gseq] == list(range(by_gseq[0]["gseq"], by_gseq[0]["gseq"] + len(sent)))
    for reader in readers:  # every message once, in gseq order, with seqs in order
        wait_for(lambda r=reader: len(r.received) >= len(sent), timeout=60, message="every message delivered")
        reader.done.set()
        assert [m["mid"] for m in reader.received] == [m["mid"] for m in by_gseq]
        assert reader.seqs == sorted(set(reader.seqs))
    for reader in readers:
        reader.join(5)
        reader.client.close()

    offline = users[:-CONNECTED]

    def counters_exact(application) -> bool:
        for uid, _ in offline:
            total, fields, _ = application.services.messages.unread.counters.read(uid)
            groups = {f[1:]: n for f, n in fields.items() if f.startswith("g")}
            if groups != unread_in_database(application, uid) or total != sum(fields.values()):
                return False
        return True
    wait_for(lambda: counters_exact(app), timeout=10, message="offline members' counters equal the database")
    mine = sum(1 for m in sent if m["from"] == users[0][0])
    assert app.services.contacts.unread(users[0][0])["groups"] == {str(gid): len(sent) - mine}

    restarted = create_app(make_config())  # the same database; the store is rebuilt from it
    try:
        assert counters_exact(restarted)
        assert json.dumps(restarted.services.contacts.unread(users[0][0])) == json.dumps(
            app.services.contacts.unread(users[0][0]))
    finally:
        restarted.close()
