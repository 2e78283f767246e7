"""Browser: two users in two tabs chat live on short and on long polling: messages both ways without a
reload, badges, the total and the tab title, read receipts, history paging, and text shown as text."""
import re

import pytest

from .browser import POLL_INTERVAL, chromium_fixture, expect, live_fixture, tabs_fixture  # noqa: F401

pytestmark = pytest.mark.browser

# How soon a message must show in the other tab: within the poll interval (plus the time to send and
# render) on short polling, a fraction of a second on long polling and WebSocket.
WITHIN_MS = {"short": int((POLL_INTERVAL + 1.0) * 1000), "long": 900, "ws": 900}


@pytest.fixture
def pair(live, tabs):
    """Start a server with alice and bob; return a function that logs both in on a transport."""
    server = live()
    server.register("alice", "Alice")
    server.register("bob", "Bob")

    def login(transport: str):
        return server, tabs(server).login("alice", transport=transport), tabs(server).login("bob", transport=transport)
    return login


@pytest.mark.parametrize("transport", ["short", "long", "ws"])
def test_messages_reach_the_other_tab_both_ways_without_reload(pair, transport):
    server, alice, bob = pair(transport)
    within = WITHIN_MS[transport]
    alice.open_chat("Bob")
    alice.send("hello bob")
    expect(alice.bubbles).to_have_text(["hello bob"])

    expect(bob.badge("Alice")).to_have_text("1", timeout=within)  # bob has no chat open: a badge
    expect(bob.total).to_have_text("1 unread")
    expect(bob.page).to_have_title("(1) imdemo")
    expect(bob.contact("Alice").locator(".preview")).to_have_text("hello bob")

    bob.open_chat("Alice")  # opening it marks it read: the badge and the total drop at once
    expect(bob.bubbles).to_have_text(["hello bob"])
    expect(bob.badge("Alice")).to_have_count(0, timeout=1000)
    expect(bob.page).to_have_title("imdemo", timeout=1000)
    expect(bob.total).to_have_text("All caught up")

    bob.send("hi alice")
    expect(alice.bubbles).to_have_text(["hello bob", "hi alice"], timeout=within)  # alice's chat is open
    expect(alice.page).to_have_title("imdemo")
    expect(alice.badge("Bob")).to_have_count(0)
    expect(bob.bubbles).to_have_text(["hello bob", "hi alice"])
    expect(alice.page.locator(".msg.mine")).to_have_count(1)
    expect(alice.page.locator(".msg.theirs")).to_have_count(1)


def test_recent_contacts_are_newest_first_with_preview_time_badge_and_total(live, tabs):
    server = live()
    alice_uid, _ = server.register("alice", "Alice")
    _, bob = server.register("bob", "Bob")
    _, carol = server.register("carol", "Carol")
    server.send(bob, alice_uid, "from bob")
    server.send(carol, alice_uid, "from carol 1")
    server.send(carol, alice_uid, "from carol 2")
    alice = tabs(server).login("alice", transport="long")
    expect(alice.page.locator(".recent .contact-name")).to_have_text(["Carol", "Bob"])
    expect(alice.badge("Carol")).to_have_text("2")
    expect(alice.badge("Bob")).to_have_text("1")
    expect(alice.contact("Carol").locator(".preview")).to_have_text("from carol 2")
    expect(alice.contact("Carol").locator("time")).to_have_text(re.compile(r"\d{1,2}:\d\d"))
    expect(alice.total).to_have_text("3 unread")
    expect(alice.page).to_have_title("(3) imdemo")
    expect(alice.page.locator(".everyone .contact-name")).to_have_text(["Bob", "Carol"])

    server.send(bob, alice_uid, "bob again")  # a new message moves its conversation to the top
    expect(alice.page.locator(".recent .contact-name")).to_have_text(["Bob", "Carol"])
    expect(alice.badge("Bob")).to_have_text("2")
    expect(alice.page).to_have_title("(4) imdemo")


def test_own_messages_show_delivered_then_read_on_websocket(pair):
    server, alice, bob = pair("ws")
    alice.open_chat("Bob")
    alice.send("are you there?")
    expect(alice.mine("are you there?")).to_have_attribute("data-state", "delivered")  # bob's tab acked it
    expect(bob.badge("Alice")).to_have_text("1")
    bob.open_chat("Alice")
    expect(alice.mine("are you there?")).to_have_attribute("data-state", "read")
    expect(alice.mine("are you there?").locator(".mark")).to_have_attribute("title", "Read")


@pytest.mark.parametrize("transport", ["long", "short"])
def test_own_messages_show_delivered_then_read_on_polling(pair, transport):
    # The delivered hint is published when bob's next poll acknowledges the message, often while
    # alice's tab is between two polls: the hint cursor (hints_since) brings it with her next one.
    server, alice, bob = pair(transport)
    alice.open_chat("Bob")
    alice.send("are you there?")
    expect(bob.badge("Alice")).to_have_text("1")
    expect(alice.mine("are you there?")).to_have_attribute("data-state", "delivered")
    bob.open_chat("Alice")
    expect(alice.mine("are you there?")).to_have_attribute("data-state", "read")


@pytest.mark.parametrize("transport", ["short", "long", "ws"])
def test_delivered_marks_show_after_a_reload_and_after_a_restart(pair, transport, tmp_path):
    """The delivered mark is kept by the server, not only pushed live: a reloaded page shows it from history
    and contacts, also once the server has restarted with an empty store and bob's tab is gone."""
    server, alice, bob = pair(transport)
    alice.open_chat("Bob")
    alice.send("did this arrive?")
    expect(bob.badge("Alice")).to_have_text("1")  # bob's tab has it (and acknowledges it), unread
    expect(alice.mine("did this arrive?")).to_have_attribute("data-state", "delivered")
    alice.page.reload()
    alice.open_chat("Bob")
    expect(alice.mine("did this arrive?")).to_have_attribute("data-state", "delivered")
    bob.page.close()
    server.stop()
    server.start()
    alice.page.reload()
    alice.open_chat("Bob")
    mark = alice.mine("did this arrive?")
    expect(mark).to_have_attribute("data-state", "delivered")
    expect(mark.locator(".mark")).to_have_attribute("title", "Delivered")
    alice.page.screenshot(path=str(tmp_path / f"delivered-after-restart-{transport}.png"))


def test_message_markup_is_shown_as_text_and_never_runs(pair):
    server, alice, bob = pair("long")
    attack = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    alice.open_chat("Bob")
    bob.open_chat("Alice")
    bob.send(attack)
    expect(alice.bubbles).to_have_text([attack])
    expect(alice.contact("Bob").locator(".preview")).to_have_text(attack)
    expect(bob.contact("Alice").locator(".preview")).to_have_text("You: " + attack)
    for tab in (alice, bob):
        expect(tab.page.locator(".messages img, .messages script, .lists img")).to_have_count(0)
    # the tabs fixture fails the test if a dialog opened or a script error happened


def test_enter_sends_and_shift_enter_makes_a_new_line(pair):
    server, alice, bob = pair("long")
    alice.open_chat("Bob")
    box = alice.page.locator(".composer textarea")
    box.type("first line")
    box.press("Shift+Enter")
    box.type("second line")
    expect(alice.bubbles).to_have_count(0)
    box.press("Enter")
    expect(alice.bubbles).to_have_text(["first line\nsecond line"])
    expect(box).to_have_value("")
    bob.open_chat("Alice")
    expect(bob.bubbles).to_have_text(["first line\nsecond line"])


def test_scrolling_to_the_top_loads_older_pages(live, tabs):
    server = live()
    alice_uid, alice_token = server.register("alice", "Alice")
    bob_uid, bob_token = server.register("bob", "Bob")
    for i in range(65):
        sender, to = (alice_token, bob_uid) if i % 2 else (bob_token, alice_uid)
        server.send(sender, to, f"m{i}")
    # all read: a conversation with unread messages opens on the first of them (test_browser_signals.py)
    server.http.ok("POST", f"/api/conversations/u{bob_uid}/read", {}, token=alice_token)
    alice = tabs(server).login("alice", transport="long")
    alice.open_chat("Bob")
    expect(alice.bubbles).to_have_count(30)
    expect(alice.bubbles.last).to_have_text("m64")
    expect(alice.bubbles.last).to_be_in_viewport()  # newest at the bottom, scrolled into view
    messages = alice.page.locator(".messages")
    messages.evaluate("list => { list.scrollTop = 0; }")
    expect(alice.bubbles).to_have_count(60)
    assert messages.evaluate("list => list.scrollTop") > 0  # the reader keeps their place
    messages.evaluate("list => { list.scrollTop = 0; }")
    expect(alice.bubbles).to_have_count(65)
    expect(alice.bubbles.first).to_have_text("m0")
    expect(messages).to_have_class(re.compile("at-start"))
    texts = alice.bubbles.all_text_contents()
    assert texts == [f"m{i}" for i in range(65)]


def test_a_hidden_tab_counts_the_open_chat_unread_until_it_is_seen(pair):
    server, alice, bob = pair("ws")
    alice.open_chat("Bob")
    bob.open_chat("Alice")
    bob.page.evaluate("""() => {  // as if bob switched to another browser tab
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    alice.send("still there?")
    expect(bob.bubbles).to_have_text(["still there?"])
    expect(bob.page).to_have_title("(1) imdemo")
    expect(alice.mine("still there?")).to_have_attribute("data-state", "delivered")
    bob.page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    expect(bob.page).to_have_title("imdemo")
    expect(alice.mine("still there?")).to_have_attribute("data-state", "read")


def test_a_long_paste_is_kept_whole_the_composer_says_by_how_much_and_send_waits(pair):
    """A message is 1..1000 characters once trimmed (as the server counts: an emoji is one). From 100 left
    the composer counts down; past the limit it says by how much and refuses to send; nothing is cut."""
    server, alice, bob = pair("long")
    alice.open_chat("Bob")
    page, box = alice.page, alice.page.locator(".composer textarea")
    count, send = page.locator(".composer-count"), page.locator(".composer .send")
    length = lambda: box.evaluate("box => [...box.value].length")  # noqa: E731
    box.fill("a" * 899)
    expect(count).to_be_hidden()
    page.keyboard.insert_text("b")  # as a paste: at the caret, through the browser's editing
    expect(count).to_have_text("100 characters left")
    page.keyboard.insert_text("c" * 4100)
    assert length() == 5000  # kept whole
    expect(count).to_have_text("Too long by 4,000 characters: a message holds at most 1,000.")
    expect(send).to_be_disabled()
    expect(box).to_have_attribute("aria-invalid", "true")
    box.press("Enter")
    send.click(force=True)
    expect(alice.page.locator(".messages .msg")).to_have_count(0)
    assert length() == 5000

    box.fill("字" * 999 + "😀")  # 1000 characters, the emoji one of them
    expect(count).to_have_text("0 characters left")
    expect(send).to_be_enabled()
    page.keyboard.insert_text("!")
    expect(count).to_have_text("Too long by 1 character: a message holds at most 1,000.")
    box.press("Backspace")
    page.keyboard.insert_text(" \n ")  # trimmed away, as the server trims
    expect(count).to_have_text("0 characters left")
    box.press("Enter")
    expect(alice.bubbles).to_have_text(["字" * 999 + "😀"])
    expect(count).to_be_hidden()
    expect(alice.mine("字")).to_have_attribute("data-state", re.compile("sent|delivered"))
    bob.open_chat("Alice")
    expect(bob.bubbles).to_have_text(["字" * 999 + "😀"])


@pytest.mark.parametrize("occasion", ["reconnect", "back in view", "focus", "member picker"])
def test_someone_who_registers_later_appears_in_all_contacts_without_a_reload(live, tabs, occasion):
    """The page reads everyone again when its list may be stale: the sync loop connects again, the tab
    comes back into view or gains the focus, the member picker opens."""
    server = live()
    server.register("alice", "Alice")
    server.register("bob", "Bob")
    alice = tabs(server).login("alice", transport="ws")
    everyone = alice.page.locator(".everyone .contact-name")
    expect(everyone).to_have_text(["Bob"])
    server.register("carol", "Carol")  # no message from her: nothing else tells alice's page
    if occasion == "reconnect":
        server.stop()
        expect(alice.status).to_have_text(re.compile("^Offline"))
        server.start()
    elif occasion == "back in view":
        alice.page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # headless: always visible
    elif occasion == "focus":
        alice.page.evaluate("window.dispatchEvent(new Event('focus'))")
    else:
        alice.page.click(".new-group")
        expect(alice.page.locator(".picker-person .contact-name")).to_have_text(["Bob", "Carol"])
        alice.page.locator(".picker-person", has_text="Carol").locator("input").check()
        alice.page.keyboard.press("Escape")
    expect(everyone).to_have_text(["Bob", "Carol"], timeout=15000)
