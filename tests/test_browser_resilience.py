"""Browser: the sync loop survives a server restart with nothing lost and nothing shown twice, falls
back to long polling when the WebSocket cannot be opened, and stays one loop per tab."""
import json
import re

import pytest

from .browser import chromium_fixture, expect, live_fixture, tabs_fixture  # noqa: F401
from .helpers import wait_for

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("transport", ["short", "long", "ws"])
def test_server_restart_is_survived_with_nothing_lost_and_nothing_twice(live, tabs, transport):
    server = live()
    alice_uid, _ = server.register("alice", "Alice")
    _, bob_token = server.register("bob", "Bob")
    alice = tabs(server).login("alice", transport=transport)
    bob = tabs(server).login("bob", transport=transport)
    alice.open_chat("Bob")
    bob.open_chat("Alice")
    alice.send("before 1")
    bob.send("before 2")
    expect(alice.bubbles).to_have_text(["before 1", "before 2"])
    expect(bob.bubbles).to_have_text(["before 1", "before 2"])

    server.stop()
    for tab in (alice, bob):  # the page says so, and retries with backoff
        expect(tab.page.locator(".banner")).to_contain_text("The server cannot be reached")
        expect(tab.status).to_have_text(re.compile("^Offline"))
    alice.send("written while offline")
    expect(alice.mine("written while offline")).to_have_attribute("data-state", "failed")

    server.start()  # same ports, same database
    server.send(bob_token, alice_uid, "sent while alice was away")
    for tab in (alice, bob):
        expect(tab.status).to_have_text(re.compile("^Connected"), timeout=15000)
        expect(tab.page.locator(".banner")).to_be_hidden()
    everything = ["before 1", "before 2", "sent while alice was away", "written while offline"]
    expect(alice.bubbles).to_have_text(everything)  # the failed send went out again, once
    expect(bob.bubbles).to_have_text(everything)
    expect(alice.mine("written while offline")).not_to_have_attribute("data-state", re.compile("failed|sending"))

    bob.send("after")
    expect(alice.bubbles).to_have_text(everything + ["after"])
    expect(alice.page).to_have_title("imdemo")
    expect(bob.page).to_have_title("imdemo")
    assert alice.bubbles.all_text_contents() == everything + ["after"]  # still once each


def test_unread_counts_are_caught_up_after_a_restart(live, tabs):
    server = live()
    alice_uid, _ = server.register("alice", "Alice")
    _, bob_token = server.register("bob", "Bob")
    server.send(bob_token, alice_uid, "one")
    alice = tabs(server).login("alice", transport="long")
    expect(alice.badge("Bob")).to_have_text("1")
    server.stop()
    expect(alice.status).to_have_text(re.compile("^Offline"))
    server.start()
    server.send(bob_token, alice_uid, "two")
    server.send(bob_token, alice_uid, "three")
    expect(alice.status).to_have_text(re.compile("^Connected"), timeout=15000)
    expect(alice.badge("Bob")).to_have_text("3")
    expect(alice.page).to_have_title("(3) imdemo")
    expect(alice.contact("Bob").locator(".preview")).to_have_text("three")


def test_without_a_websocket_server_the_page_falls_back_to_long_polling(live, tabs):
    server = live(websocket=False)  # HTTP only: the WebSocket port refuses connections
    server.register("alice", "Alice")
    server.register("bob", "Bob")
    alice = tabs(server).login("alice")
    bob = tabs(server).login("bob")
    for tab in (alice, bob):
        expect(tab.status).to_have_text("Connected · Long poll (WebSocket unavailable)")
        expect(tab.page.locator("[data-transport=ws]")).to_have_attribute("aria-checked", "true")
    alice.open_chat("Bob")
    alice.send("over long polling")
    expect(bob.badge("Alice")).to_have_text("1", timeout=900)


def test_switching_transports_keeps_one_sync_loop_per_tab(live, tabs):
    server = live()
    alice_uid, _ = server.register("alice", "Alice")
    _, bob_token = server.register("bob", "Bob")
    alice = tabs(server).login("alice")
    in_flight, most, finished = set(), [0], [0]

    def started(request):
        if "/api/sync" in request.url:
            in_flight.add(request)
            most[0] = max(most[0], len(in_flight))

    def ended(request):
        if request in in_flight:
            in_flight.discard(request)
            finished[0] += 1
    alice.page.on("request", started)
    alice.page.on("requestfinished", ended)
    alice.page.on("requestfailed", ended)
    for transport in ["short", "long", "short", "long"]:
        alice.choose(transport)
    most[0] = len(in_flight)  # a switch aborts the old loop's request: count from here
    done = finished[0]
    # Held long polls: a second loop would hold a second request at the same time. Each message answers
    # the held poll and the loop parks the next one. (evaluate() lets Playwright deliver request events.)
    for n in (1, 2):
        server.send(bob_token, alice_uid, f"wake {n}")
        wait_for(lambda n=n: alice.page.evaluate("1") and finished[0] >= done + n, timeout=10,
                 message=f"long poll {n} to be answered")
    wait_for(lambda: alice.page.evaluate("1") and len(in_flight) == 1, timeout=10, message="the next poll")
    assert most[0] == 1


def test_websocket_says_hello_acks_each_message_and_pings_every_heartbeat(live, tabs):
    server = live(heartbeat=0.4)
    alice_uid, _ = server.register("alice", "Alice")
    _, bob_token = server.register("bob", "Bob")
    alice = tabs(server)
    sockets, sent = [], []

    def opened(socket):
        sockets.append(socket)
        socket.on("framesent", lambda payload: sent.append(json.loads(payload)))
    alice.page.on("websocket", opened)
    alice.login("alice", transport="ws")
    frames = lambda kind: [f for f in sent if f["type"] == kind]  # noqa: E731
    pump = alice.page.evaluate  # lets Playwright deliver the frame events while we wait

    wait_for(lambda: pump("1") and frames("hello"), message="hello")
    assert sent[0]["type"] == "hello" and sent[0]["since"] == 0 and sent[0]["token"]
    server.send(bob_token, alice_uid, "ack me")  # alice's first event: seq 1 of her timeline
    expect(alice.badge("Bob")).to_have_text("1")
    wait_for(lambda: pump("1") and {"type": "ack", "seq": 1} in sent, message="the ack of seq 1")
    wait_for(lambda: pump("1") and len(frames("ping")) >= 3, timeout=5, message="three pings")
    expect(alice.status).to_have_text("Connected · WebSocket")
    assert len(sockets) == 1  # one connection all along: pings answered, the ACK stopped any resend
