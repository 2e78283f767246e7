"""Browser: signals in the stream (SPEC section 17) as a user meets them: recalling a message turns it into
"… recalled a message" in every tab on every transport and drops the badge it caused; an edit shows the new
text marked edited; an @ picker in a group and the "[Mentioned]" mark until read, after a reload too; "… is
typing…"; a notification per message while the tab is hidden, none for a muted conversation (a dot instead of
a count, out of the title); landing on the first unread under a "new messages" line; Chinese at phone width."""
import re

import pytest

from .browser import PHONE, chromium_fixture, expect, live_fixture, screenshot_folder, tabs_fixture  # noqa: F401
from .helpers import wait_for

pytestmark = pytest.mark.browser

# Records every notification the page makes, and every time it asks for permission (it must not on load).
RECORD_NOTIFICATIONS = """
window.__notes = [];
window.__asked = 0;
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) { super(title, options); window.__notes.push({title, body: options && options.body}); }
    static requestPermission(...args) { window.__asked += 1; return Real.requestPermission(...args); }
  };
}
"""
SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, 'visibilityState', {get: () => state, configurable: true});
  Object.defineProperty(document, 'hidden', {get: () => state === 'hidden', configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


@pytest.fixture
def people(live):
    server = live()
    uids = {name: server.register(name.lower(), name) for name in ("Alice", "Bob", "Carol")}
    return server, uids


def act_on(tab, text: str, action: str) -> None:
    """Open the "⋯" menu of the message saying text and choose action (recall, edit)."""
    item = tab.page.locator(".messages li", has_text=text)
    item.hover()
    item.locator(".msg-more").click()
    tab.page.locator(f".msg-menu .msg-{action}").click()


def test_a_recall_shows_in_every_tab_on_every_transport_and_drops_the_badge(people, tabs):
    server, uids = people
    alice_ws = tabs(server).login("alice", transport="ws")
    alice_long = tabs(server).login("alice", transport="long")
    bob = tabs(server).login("bob", transport="short")
    alice_ws.open_chat("Bob")
    alice_long.open_chat("Bob")
    alice_ws.send("meet at 8")
    alice_ws.send("sent to the wrong person")
    expect(bob.badge("Alice")).to_have_text("2")
    expect(alice_long.bubbles).to_have_text(["meet at 8", "sent to the wrong person"])
    act_on(alice_ws, "sent to the wrong person", "recall")
    for tab, words in ((alice_ws, "You recalled a message"), (alice_long, "You recalled a message")):
        expect(tab.page.locator(".messages li.recalled .system-text")).to_have_text(words)
        expect(tab.bubbles).to_have_text(["meet at 8"])
    expect(bob.badge("Alice")).to_have_text("1")  # it was unread: it no longer counts
    expect(bob.page).to_have_title("(1) imdemo")
    expect(bob.contact("Alice").locator(".preview")).to_have_text("Alice recalled a message")
    bob.open_chat("Alice")
    expect(bob.page.locator(".messages li.recalled .system-text")).to_have_text("Alice recalled a message")
    assert "sent to the wrong person" not in bob.page.content()


def test_an_edit_shows_the_new_text_marked_edited_in_the_other_tab(people, tabs):
    server, uids = people
    alice = tabs(server).login("alice", transport="ws")
    bob = tabs(server).login("bob", transport="long")
    alice.open_chat("Bob")
    alice.send("see you at teh station")
    bob.open_chat("Alice")
    expect(bob.bubbles).to_have_text(["see you at teh station"])
    act_on(alice, "teh station", "edit")
    box = alice.page.locator(".edit-box")
    box.fill("see you at the station")
    box.press("Enter")
    for tab in (alice, bob):
        expect(tab.bubbles).to_have_text(["see you at the station"])
        expect(tab.page.locator(".msg .edited")).to_have_text("edited")


def test_a_mention_picked_with_at_marks_the_member_until_read_also_after_a_reload(people, tabs):
    server, uids = people
    gid = server.create_group(uids["Alice"][1], "Trip", [uids["Bob"][0], uids["Carol"][0]])
    bob = tabs(server).login("bob", transport="ws")
    carol = tabs(server).login("carol", transport="long")
    bob.page.locator(".recent .contact.group", has_text="Trip").click()
    box = bob.page.locator(".composer textarea")
    box.press_sequentially("hi @")
    expect(bob.page.locator(".mention-option .mention-name")).to_have_text(["Alice", "Carol"])  # not @all: not owner
    box.press_sequentially("ca")
    expect(bob.page.locator(".mention-option .mention-name")).to_have_text(["Carol"])
    box.press("Enter")  # picks; it does not send
    expect(box).to_have_value("hi @Carol ")
    box.press_sequentially("the tickets?")
    box.press("Enter")
    expect(bob.bubbles).to_have_text(["hi @Carol the tickets?"])
    mark = carol.group("Trip").locator(".mention-mark")
    expect(mark).to_have_text("[Mentioned]")
    carol.page.reload()
    expect(carol.group("Trip").locator(".mention-mark")).to_have_text("[Mentioned]")  # derived from the rows
    read = f"/api/groups/{gid}/read"  # the page clears the mark at once and then tells the server
    with carol.page.expect_response(lambda r: r.url.endswith(read) and r.request.method == "POST") as told:
        carol.group("Trip").click()
    assert told.value.ok
    expect(carol.group("Trip").locator(".mention-mark")).to_have_count(0)
    carol.page.reload()
    expect(carol.group("Trip")).to_be_visible()
    expect(carol.group("Trip").locator(".mention-mark")).to_have_count(0)  # read: gone for good
    alice = tabs(server).login("alice", transport="ws")
    alice.page.locator(".recent .contact.group", has_text="Trip").click()
    alice.page.locator(".composer textarea").press_sequentially("@")
    expect(alice.page.locator(".mention-option .mention-name").first).to_have_text("all")  # the owner's @all
    assert gid


def test_someone_typing_shows_in_a_1to1_chat_and_a_small_group_and_goes(people, tabs):
    server, uids = people
    alice = tabs(server).login("alice", transport="ws")
    bob = tabs(server).login("bob", transport="ws")
    alice.open_chat("Bob")
    bob.open_chat("Alice")
    bob.page.locator(".composer textarea").press_sequentially("on my way")
    typing = alice.page.locator(".chat-title .typing")
    expect(typing).to_have_text("Bob is typing…")
    refused = []
    bob.page.on("response", lambda r: r.url.endswith("/typing") and r.status == 429 and refused.append(r.url))
    bob.page.locator(".composer textarea").press("Enter")
    expect(typing).to_be_hidden()  # the message came: typing is over
    bob.page.locator(".composer textarea").press_sequentially("and one more thing", delay=150)  # 2.7 s
    expect(typing).to_have_text("Bob is typing…")  # the next message's, once the server takes a signal again
    bob.page.locator(".composer textarea").press("Enter")
    expect(alice.bubbles).to_have_text(["on my way", "and one more thing"])
    assert refused == []  # no signal sent for the server to refuse (429)
    server.create_group(uids["Alice"][1], "Trip", [uids["Bob"][0]])
    alice.page.locator(".recent .contact.group", has_text="Trip").click()
    bob.page.locator(".recent .contact.group", has_text="Trip").click()
    bob.page.locator(".composer textarea").press_sequentially("hm")
    expect(typing).to_have_text("Bob is typing…")
    expect(typing).to_be_hidden(timeout=9000)  # stopped typing: gone within seconds


def test_typing_in_a_group_too_large_to_be_told_sends_nothing(people, tabs):
    """The server tells nobody of typing in a group of more than 100 members: a 万人群's page does not ask it to,
    which would be a request every 3 s from each member who types. A small group still hears it."""
    server, uids = people
    alice_token = uids["Alice"][1]
    users = server.app.services.auth.users
    crowd = users.create_many([(f"crowd{i:03d}", f"Crowd {i}") for i in range(100)],
                              users.by_username("alice").password_hash)
    server.create_group(alice_token, "Hall", [uids["Bob"][0], *crowd])  # 102 members
    trip = server.create_group(alice_token, "Trip", [uids["Bob"][0]])
    bob = tabs(server).login("bob", transport="ws")
    sent = []
    bob.page.on("request", lambda r: r.url.endswith("/typing") and sent.append(r.url))
    bob.page.locator(".recent .contact.group", has_text="Hall").click()
    expect(bob.page.locator(".chat-username")).to_have_text("102 members")
    bob.page.locator(".composer textarea").press_sequentially("anyone here?")
    bob.page.locator(".recent .contact.group", has_text="Trip").click()
    bob.page.locator(".composer textarea").press_sequentially("hi")
    wait_for(lambda: bob.page.evaluate("1") and sent, message="the small group's typing signal")
    assert [url.split("/api/")[1] for url in sent] == [f"conversations/g{trip}/typing"]  # not the hall's


def test_a_hidden_tab_notifies_each_message_but_not_a_muted_conversation(people, tabs):
    server, uids = people
    alice = tabs(server)
    alice.context.grant_permissions(["notifications"], origin=server.base)
    alice.context.add_init_script(RECORD_NOTIFICATIONS)
    alice.login("alice", transport="ws")
    bob_token = uids["Bob"][1]
    server.send(bob_token, uids["Alice"][0], "first")
    expect(alice.badge("Bob")).to_have_text("1")
    alice.page.evaluate(SET_VISIBILITY, "hidden")
    server.send(bob_token, uids["Alice"][0], "while away")
    expect(alice.badge("Bob")).to_have_text("2")
    assert alice.page.evaluate("window.__notes") == [{"title": "Bob", "body": "while away"}]
    alice.page.evaluate(SET_VISIBILITY, "visible")
    alice.open_chat("Bob")
    alice.page.locator(".mute-toggle").click()
    expect(alice.page.locator(".mute-toggle")).to_have_attribute("aria-pressed", "true")
    alice.page.locator(".back").click() if alice.page.locator(".back").is_visible() else None
    alice.page.evaluate(SET_VISIBILITY, "hidden")
    server.send(bob_token, uids["Alice"][0], "muted now")
    expect(alice.badge("Bob")).to_have_class(re.compile(r"\bdot\b"))  # a dot, no number
    expect(alice.badge("Bob")).to_have_text("")
    expect(alice.page).to_have_title("imdemo")  # out of the title's count
    assert len(alice.page.evaluate("window.__notes")) == 1
    _, carol_token = uids["Carol"]
    server.send(carol_token, uids["Alice"][0], "not muted")
    expect(alice.page).to_have_title("(1) imdemo")
    assert [n["body"] for n in alice.page.evaluate("window.__notes")] == ["while away", "not muted"]
    assert alice.page.evaluate("window.__asked") == 0  # never asked for permission on load


def test_notifications_are_offered_by_a_button_and_asked_only_on_its_click(people, tabs):
    server, uids = people
    alice = tabs(server)
    alice.context.add_init_script(RECORD_NOTIFICATIONS)
    alice.login("alice", transport="ws")
    button = alice.page.locator(".notify-ask")
    expect(button).to_have_text("Turn on notifications")
    assert alice.page.evaluate("window.__asked") == 0
    button.click()
    alice.page.wait_for_function("window.__asked === 1")


@pytest.mark.parametrize("unread, replies", [(63, 0), (130, 0), (40, 30)], ids=["63", "130", "40 between 30 replies"])
def test_opening_a_conversation_with_many_unread_lands_on_the_first_under_a_new_messages_line(people, tabs,
                                                                                               unread, replies):
    server, uids = people
    alice_uid, alice_token = uids["Alice"]
    for i in range(5):
        server.send(alice_token, uids["Bob"][0], f"old {i}")
    bob = tabs(server).login("bob", transport="ws")
    bob.open_chat("Alice")
    expect(bob.bubbles).to_have_count(5)
    bob.page.locator(".back").click() if bob.page.locator(".back").is_visible() else None
    bob.page.locator(".everyone .contact", has_text="Carol").click()  # away from Alice's chat
    for i in range(1, unread + 1):
        server.send(alice_token, uids["Bob"][0], f"m{i}")
        if i <= replies:  # bob's own replies from another device: between the unread, never unread themselves
            server.send(uids["Bob"][1], alice_uid, f"reply {i}")
    expect(bob.badge("Alice")).to_have_text("99+" if unread > 99 else str(unread), timeout=30000)
    bob.open_chat("Alice")
    line = bob.page.locator(".messages li.new-messages")
    expect(line).to_have_text("New messages")
    expect(line).to_be_in_viewport()
    first = bob.page.locator(".messages li.new-messages + li.msg .text")
    expect(first).to_have_text("m1")
    expect(first).to_be_in_viewport()
    expect(bob.page.locator(".messages li.msg", has_text="old 4")).to_have_count(1)  # context above the line
    bob.page.locator(".messages").evaluate("(ol) => { ol.scrollTop = ol.scrollHeight; }")
    for _ in range(4):  # newer pages load as the reader scrolls down
        bob.page.locator(".messages").evaluate("(ol) => { ol.scrollTop = ol.scrollHeight; }")
        bob.page.wait_for_timeout(150)
    expect(bob.bubbles.last).to_have_text(f"m{unread}", timeout=8000)
    expect(bob.bubbles).to_have_count(5 + unread + replies)  # every message once, none skipped between pages


def test_in_chinese_at_phone_width_the_recall_and_the_mention_mark_read_in_chinese(people, tabs, tmp_path):
    server, uids = people
    shots = screenshot_folder(tmp_path)
    server.create_group(uids["Alice"][1], "周末", [uids["Bob"][0]])
    alice = tabs(server, viewport=PHONE, locale="zh-CN").login("alice")  # WebSocket, the default
    bob = tabs(server, viewport=PHONE, locale="zh-CN").login("bob")
    for tab in (alice, bob):
        expect(tab.status).to_have_text(re.compile("^已连接"))
    alice.page.locator(".recent .contact.group", has_text="周末").click()
    box = alice.page.locator(".composer textarea")
    box.press_sequentially("@")
    expect(alice.page.locator(".mention-option .mention-name")).to_have_text(["所有人", "Bob"])
    box.press("Enter")
    box.press_sequentially("周六见")
    box.press("Enter")
    expect(bob.group("周末").locator(".mention-mark")).to_have_text("[有人@我]")
    bob.page.screenshot(path=str(shots / "signals-phone-zh-contacts.png"))
    alice.send("发错了")
    act_on(alice, "发错了", "recall")
    expect(alice.page.locator(".messages li.recalled .system-text")).to_have_text("你撤回了一条消息")
    alice.page.screenshot(path=str(shots / "signals-phone-zh-chat.png"))
    bob.group("周末").click()
    expect(bob.page.locator(".messages li.recalled .system-text")).to_have_text("Alice撤回了一条消息")
