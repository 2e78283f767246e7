"""Browser: group chat in three tabs (three users): make a group, chat in it live on every transport,
badges and the total, "read by k of n" moving live, history paging, membership changes as system lines
that move every tab (added, renamed, removed, left, owner passed on), a removed member's tab that stops
receiving and says so, and the page in Chinese. Screenshots of a group chat at desktop and phone width."""
import re

import pytest

from .browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    POLL_INTERVAL,
    chromium_fixture,
    expect,
    live_fixture,
    screenshot_folder,
    tabs_fixture,
)
from .test_browser_i18n import in_language, switch_and_walk

pytestmark = pytest.mark.browser

WITHIN_MS = {"short": int((POLL_INTERVAL + 1.5) * 1000), "long": 2000, "ws": 2000}


@pytest.fixture
def trio(live, tabs):
    """Start a server with alice, bob and carol; return a function that logs the three in on a transport."""
    server = live()
    people = {name: server.register(name.lower(), name) for name in ("Alice", "Bob", "Carol")}

    def login(transport: str = "ws"):
        return server, people, [tabs(server).login(name.lower(), transport=transport) for name in people]
    return login


@pytest.mark.parametrize("transport", ["short", "long", "ws"])
def test_three_tabs_make_a_group_and_chat_in_it_live(trio, transport):
    server, _, (alice, bob, carol) = trio(transport)
    within = WITHIN_MS[transport]
    alice.create_group("Trio", ["Bob", "Carol"])
    expect(alice.system_lines).to_have_text(["You created the group “Trio” with Bob and Carol"])
    expect(alice.page.locator(".chat-username")).to_have_text("3 members")
    for tab in (bob, carol):  # the group arrives in their recent contacts, with a group's avatar, not unread
        expect(tab.group("Trio").locator(".preview")).to_have_text(
            re.compile("^Alice created the group “Trio” with "), timeout=within)
        expect(tab.group("Trio").locator(".group-avatar")).to_be_visible()
        expect(tab.group("Trio").locator(".badge")).to_have_count(0)

    alice.send("hello trio")
    expect(alice.bubbles).to_have_text(["hello trio"])
    for tab in (bob, carol):
        expect(tab.group("Trio").locator(".badge")).to_have_text("1", timeout=within)
        expect(tab.group("Trio").locator(".preview")).to_have_text("Alice: hello trio")
        expect(tab.total).to_have_text("1 unread")
        expect(tab.page).to_have_title("(1) imdemo")
    expect(alice.mine("hello trio").locator(".read-by")).to_have_text("Read by 0 of 2")

    bob.open_chat("Trio")  # opening it marks it read: bob's badge and total drop, alice sees 1 of 2
    expect(bob.bubbles).to_have_text(["hello trio"])
    expect(bob.page.locator(".msg.theirs .sender")).to_have_text(["Alice"])
    expect(bob.group("Trio").locator(".badge")).to_have_count(0)
    expect(bob.total).to_have_text("All caught up")
    expect(alice.mine("hello trio").locator(".read-by")).to_have_text("Read by 1 of 2", timeout=within)

    bob.send("hi from bob")
    expect(alice.bubbles).to_have_text(["hello trio", "hi from bob"], timeout=within)  # open: read at once
    expect(alice.group("Trio").locator(".badge")).to_have_count(0)
    expect(alice.page).to_have_title("imdemo")
    expect(carol.group("Trio").locator(".badge")).to_have_text("2", timeout=within)
    expect(carol.group("Trio").locator(".preview")).to_have_text("Bob: hi from bob")
    expect(carol.page).to_have_title("(2) imdemo")

    carol.open_chat("Trio")
    expect(carol.bubbles).to_have_text(["hello trio", "hi from bob"])
    expect(carol.page.locator(".msg.theirs .sender")).to_have_text(["Alice", "Bob"])
    expect(carol.page).to_have_title("imdemo")
    expect(alice.mine("hello trio").locator(".read-by")).to_have_text("Read by all", timeout=within)
    expect(alice.mine("hello trio")).to_have_attribute("data-state", "read")
    expect(bob.mine("hi from bob").locator(".read-by")).to_have_text("Read by all", timeout=within)

    carol.send("and carol")
    everything = ["hello trio", "hi from bob", "and carol"]
    for tab in (alice, bob, carol):  # each message once, however it arrived (send answer, sync event)
        expect(tab.bubbles).to_have_text(everything, timeout=within)
        expect(tab.page.locator(".msg.mine")).to_have_count(1)
    for tab in (alice, bob, carol):
        assert tab.bubbles.all_text_contents() == everything


def test_membership_changes_are_system_lines_that_move_every_tab(trio):
    server, people, (alice, bob, carol) = trio("ws")
    alice.create_group("Pair", ["Bob"])
    bob.open_chat("Pair")
    panel = bob.open_members()
    expect(panel.locator(".member .contact-name")).to_have_text(["Alice", "Bob"])
    expect(panel.locator(".member[data-role=owner] .contact-name")).to_have_text(["Alice"])
    expect(panel.locator(".remove")).to_have_count(0)  # only the owner removes members
    expect(panel.locator(".rename")).to_be_hidden()  # and renames

    members = alice.open_members()  # any member adds people; here the owner
    members.locator(".add-members").click()
    alice.page.locator(".picker-person", has_text="Carol").locator("input").check()
    alice.page.click(".picker button[type=submit]")
    expect(alice.system_lines.last).to_have_text("You added Carol")
    expect(bob.system_lines.last).to_have_text("Alice added Carol")
    expect(panel.locator(".member .contact-name")).to_have_text(["Alice", "Bob", "Carol"])  # bob's panel moved
    expect(bob.page.locator(".chat-username")).to_have_text("3 members")
    expect(carol.group("Pair").locator(".preview")).to_have_text("Alice added you")
    carol.open_chat("Pair")
    expect(carol.system_lines).to_have_text(["Alice added you"])  # nothing from before she joined

    members.locator(".rename input").fill("Team")
    members.locator(".rename button").click()
    for tab in (alice, bob, carol):
        expect(tab.system_lines.last).to_have_text(re.compile("renamed the group to “Team”$"))
        expect(tab.page.locator(".chat-name")).to_have_text("Team")
        expect(tab.group("Team")).to_have_count(1)

    members.locator(".member", has_text="Bob").locator(".remove").click()
    members.locator(".member", has_text="Bob").locator(".confirm-remove").click()  # asked first
    expect(bob.system_lines.last).to_have_text("Alice removed you")
    expect(bob.page.locator(".not-member")).to_have_text("You are no longer a member of this group.")
    expect(bob.page.locator(".composer")).to_be_hidden()
    expect(bob.page.locator(".members-toggle")).to_be_hidden()
    expect(carol.system_lines.last).to_have_text("Alice removed Bob")
    expect(members.locator(".member .contact-name")).to_have_text(["Alice", "Carol"])

    carol.send("bob cannot see this")
    expect(alice.bubbles).to_have_text(["bob cannot see this"])
    alice.send("nor this")
    expect(carol.bubbles).to_have_text(["bob cannot see this", "nor this"])
    _, bob_token = people["Bob"]
    assert server.http.ok("GET", "/api/unread", token=bob_token)["total"] == 0
    expect(bob.bubbles).to_have_count(0)  # his tab got the removal and nothing after it
    expect(bob.group("Team").locator(".preview")).to_have_text("Alice removed you")
    expect(bob.group("Team").locator(".badge")).to_have_count(0)

    members.locator(".leave").click()  # the owner leaves: ownership passes to the longest-standing member
    question = members.locator(".leave-question")
    expect(question).to_contain_text("Leave Team? You keep what you have received")  # asked first
    expect(question.locator(".cancel-leave")).to_be_focused()  # Enter twice leaves nothing
    alice.page.keyboard.press("Escape")
    expect(question).to_be_hidden()
    expect(alice.page.locator(".composer")).to_be_visible()  # still a member
    members.locator(".leave").click()
    question.locator(".confirm-leave").click()
    expect(carol.system_lines).to_have_text(["Alice added you", "Alice renamed the group to “Team”",
                                             "Alice removed Bob", "Alice left", "The group’s owner is now you"])
    carol_panel = carol.open_members()
    expect(carol_panel.locator(".member .contact-name")).to_have_text(["Carol"])
    expect(carol_panel.locator(".member[data-role=owner] .contact-name")).to_have_text(["Carol"])
    expect(carol_panel.locator(".rename")).to_be_visible()
    expect(alice.page.locator(".not-member")).to_be_visible()


def test_scrolling_a_group_to_the_top_loads_older_pages(live, tabs):
    server = live()
    alice, alice_token = server.register("alice", "Alice")
    bob, bob_token = server.register("bob", "Bob")
    gid = server.create_group(alice_token, "Chatty", [bob])
    for i in range(65):
        server.send_group(bob_token if i % 2 else alice_token, gid, f"m{i}")
    # all read: a conversation with unread messages opens on the first of them (test_browser_signals.py)
    server.http.ok("POST", f"/api/conversations/g{gid}/read", {}, token=alice_token)
    tab = tabs(server).login("alice", transport="long")
    tab.open_chat("Chatty")
    expect(tab.bubbles).to_have_count(30)
    expect(tab.bubbles.last).to_have_text("m64")
    expect(tab.bubbles.last).to_be_in_viewport()
    messages = tab.page.locator(".messages")
    messages.evaluate("list => { list.scrollTop = 0; }")
    expect(tab.bubbles).to_have_count(60)
    messages.evaluate("list => { list.scrollTop = 0; }")
    expect(tab.bubbles).to_have_count(65)
    expect(tab.system_lines).to_have_text(["You created the group “Chatty” with Bob"])  # the very first
    expect(messages).to_have_class(re.compile("at-start"))
    assert tab.bubbles.all_text_contents() == [f"m{i}" for i in range(65)]
    assert tab.page.locator(".msg.theirs .sender").all_text_contents() == ["Bob"] * 32
    expect(tab.group("Chatty").locator(".badge")).to_have_count(0)


def test_the_create_dialog_works_from_the_keyboard_and_refuses_an_empty_name(trio):
    server, _, (alice, bob, _carol) = trio("long")
    page = alice.page
    page.focus(".new-group")
    page.keyboard.press("Enter")
    dialog = page.locator(".picker")
    expect(dialog).to_be_visible()
    expect(page.locator(".picker input[name=name]")).to_be_focused()
    page.keyboard.press("Enter")  # no name, nobody picked: the dialog says so and stays
    expect(dialog.locator(".form-error")).to_have_text("Give the group a name.")
    page.keyboard.type("Keys")
    page.keyboard.press("Tab")
    page.keyboard.type("bo")  # the filter leaves Bob
    expect(dialog.locator(".picker-list li:visible")).to_have_count(1)
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(dialog.locator(".picker-person", has_text="Bob").locator("input")).to_be_checked()
    page.keyboard.press("Escape")  # Esc cancels: nothing made
    expect(dialog).to_be_hidden()
    assert server.http.ok("GET", "/api/groups", token=server.http.login("alice")[1])["groups"] == []

    page.keyboard.press("Enter")  # the focus is back on New group
    expect(dialog).to_be_visible()
    page.keyboard.type("Keys")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the first person: Bob
    page.locator(".picker input[name=name]").press("Enter")
    expect(page.locator(".chat-name")).to_have_text("Keys")
    expect(bob.group("Keys")).to_have_count(1)


def test_a_chinese_page_says_the_system_lines_in_chinese(live, tabs):
    server = live()
    zhang, zhang_token = server.register("zhangsan", "张三")
    li, _ = server.register("lisi", "李四")
    wang, _ = server.register("wangwu", "王五")
    gid = server.create_group(zhang_token, "周末", [li])
    server.http.ok("POST", f"/api/groups/{gid}/members", {"uids": [wang]}, token=zhang_token)
    tab = tabs(server, locale="zh-CN").login("lisi")
    expect(tab.status).to_have_text("已连接 · 长连接")
    tab.open_chat("周末")
    expect(tab.system_lines).to_have_text(["张三创建了群聊“周末”，并邀请你加入", "张三邀请王五加入了群聊"])
    expect(tab.page.locator(".members-toggle")).to_have_text("群成员")
    expect(tab.page.locator(".chat-username")).to_have_text("3 位成员")
    expect(tab.page.locator(".new-group")).to_have_text("创建群聊")
    panel = tab.open_members()
    expect(panel.locator(".member[data-role=owner] .role")).to_have_text("群主")
    expect(panel.locator(".leave")).to_have_text("退出群聊")
    in_language(tab.page, "zh")  # everything on screen, the panel included, from the Chinese table
    tab.page.keyboard.press("Escape")  # the panel closes from the keyboard too, back to its button
    expect(panel).to_be_hidden()
    expect(tab.page.locator(".members-toggle")).to_be_focused()
    tab.open_members()
    switch_and_walk(tab.page, "en", ".connection")  # the switch says it all again in English at once
    expect(tab.system_lines).to_have_text(["张三 created the group “周末” with you", "张三 added 王五"])
    expect(panel.locator(".leave")).to_have_text("Leave group")


@pytest.mark.parametrize("viewport, name", [(DESKTOP, "desktop-group.png"), (PHONE, "phone-group.png")])
def test_a_group_chat_fits_desktop_and_phone_width(live, tabs, tmp_path, viewport, name):
    server = live()
    zhang, zhang_token = server.register("zhangsan", "张三")
    li, li_token = server.register("lisi", "李四")
    wang, wang_token = server.register("wangwu", "王五")
    gid = server.create_group(zhang_token, "周末爬山", [li, wang])
    server.send_group(li_token, gid, "周六早上八点，地铁站见？")
    server.send_group(wang_token, gid, "好的！I'll bring snacks.")
    server.http.ok("POST", f"/api/groups/{gid}/read", {}, token=li_token)
    tab = tabs(server, viewport).login("zhangsan", transport="ws")
    expect(tab.group("周末爬山").locator(".badge")).to_have_text("2")
    tab.open_chat("周末爬山")
    tab.send("Great, see you at 8 on Saturday.")
    expect(tab.mine("Great").locator(".read-by")).to_have_text("Read by 0 of 2")
    server.http.ok("POST", f"/api/groups/{gid}/read", {}, token=li_token)
    expect(tab.mine("Great").locator(".read-by")).to_have_text("Read by 1 of 2")
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    tab.page.locator(".composer textarea").blur()
    shots = screenshot_folder(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(shots / name))
    panel = tab.open_members()
    box = panel.bounding_box()
    assert box["x"] + box["width"] <= viewport["width"] + 1
    tab.page.screenshot(path=str(tmp_path / name.replace(".png", "-members.png")))  # looked at, not kept


def test_the_inspector_shows_what_one_group_message_wrote(live, tabs, chromium):
    server = live(inspect=True)
    alice, alice_token = server.register("alice", "Alice")
    bob, _ = server.register("bob", "Bob")
    carol, _ = server.register("carol", "Carol")
    gid = server.create_group(alice_token, "Watched", [bob, carol])
    tab = tabs(server).login("bob", transport="ws")
    tab.open_chat("Watched")
    inspector = chromium.new_context(locale="en-US").new_page()
    inspector.goto(server.base + "/inspect")
    inspector.fill("#group input[name=gid]", f"g{gid}")
    inspector.click("#group button[type=submit]")
    tab.send("one message, three timelines")
    tables = inspector.locator("#tables")
    expect(tables.locator(".table-wrap", has_text="im_group (1)")).to_contain_text("Watched")
    expect(tables.locator(".table-wrap", has_text="im_group_member (3)")).to_be_visible()
    expect(tables.locator(".table-wrap", has_text="im_msg_content (2)")).to_contain_text("one message, three timelines")
    expect(tables.locator(".table-wrap", has_text="im_msg_relation (6)")).to_be_visible()  # 3 members x 2 messages
    unread, key = inspector.locator("#unread"), f"{server.config.redis_prefix}{{}}_C g{gid}"
    expect(unread.locator(f"[data-uid='{alice}']")).to_have_text(f"{key.format(alice)} = 1 · the database counts 1")
    expect(unread.locator(f"[data-uid='{bob}']")).to_have_text(f"{key.format(bob)} = 0 · the database counts 0")
    expect(inspector.locator("#verdict")).to_have_class("verdict good")
    send = inspector.locator(".action", has_text=f"POST /api/groups/{gid}/messages").first
    expect(send.locator(".step-sql", has_text="INSERT INTO im_msg_relation")).to_contain_text("rows 3")
    expect(send.locator(".step", has_text="PUBLISH")).to_have_count(1)  # one notice for the group commit
    inspector.context.close()


def test_a_group_chat_survives_a_server_restart_with_nothing_lost_and_nothing_twice(trio):
    server, people, (alice, bob, carol) = trio("ws")
    (alice_token, (bob_uid, _), (carol_uid, carol_token)) = people["Alice"][1], people["Bob"], people["Carol"]
    gid = server.create_group(alice_token, "Steady", [bob_uid, carol_uid])
    alice.open_chat("Steady")
    bob.open_chat("Steady")
    alice.send("before")
    expect(bob.bubbles).to_have_text(["before"])
    server.stop()
    expect(alice.status).to_have_text(re.compile("^Offline"))
    server.start()
    server.send_group(carol_token, gid, "while they were away")
    for tab in (alice, bob):
        expect(tab.status).to_have_text(re.compile("^Connected"), timeout=15000)
        expect(tab.bubbles).to_have_text(["before", "while they were away"])
    expect(carol.group("Steady").locator(".badge")).to_have_text("1")  # alice's message; her own is not
    bob.send("after")
    expect(alice.bubbles).to_have_text(["before", "while they were away", "after"])
    expect(alice.mine("before").locator(".read-by")).to_have_text("Read by 1 of 2")
    carol.open_chat("Steady")
    expect(alice.mine("before").locator(".read-by")).to_have_text("Read by all")
    assert alice.bubbles.all_text_contents() == ["before", "while they were away", "after"]


def test_on_short_polling_my_own_rename_and_leave_show_at_once_and_the_next_poll_doubles_nothing(live, tabs):
    """The answer to my own request moves my page before the system message comes with the next poll
    (seconds later); that message then changes nothing: one line each, the counts right."""
    server = live(poll_interval=6)
    (alice, alice_token), (bob, _), (carol, _) = (server.register(n.lower(), n) for n in ("Alice", "Bob", "Carol"))
    server.create_group(alice_token, "Slow", [bob, carol])
    owner, leaver = (tabs(server).login(name, transport="short") for name in ("alice", "bob"))
    for tab in (owner, leaver):
        tab.open_chat("Slow")
        expect(tab.page.locator(".chat-username")).to_have_text("3 members")

    def right_after_a_poll(tab):  # the next poll is a whole interval away
        with tab.page.expect_response(lambda r: "/api/sync" in r.url, timeout=10000):
            pass

    panel = owner.open_members()
    panel.locator(".rename input").fill("Quick")
    right_after_a_poll(owner)
    panel.locator(".rename button").click()
    for where in (".chat-name", ".recent .contact.group .contact-name"):
        expect(owner.page.locator(where)).to_have_text("Quick", timeout=2000)
    right_after_a_poll(owner)  # the poll that brings the system message
    expect(owner.system_lines.last).to_have_text("You renamed the group to “Quick”")

    leaver.open_members()
    right_after_a_poll(leaver)
    leaver.page.locator(".group-panel .leave").click()
    leaver.page.locator(".group-panel .confirm-leave").click()
    expect(leaver.page.locator(".not-member")).to_be_visible(timeout=2000)
    expect(leaver.page.locator(".composer")).to_be_hidden()
    expect(leaver.page.locator(".members-toggle")).to_be_hidden()
    expect(leaver.page.locator(".chat-username")).to_have_text("2 members")
    right_after_a_poll(leaver)
    expect(leaver.system_lines).to_have_text(["Alice created the group “Slow” with you and Carol",
                                              "Alice renamed the group to “Quick”", "You left"])
    expect(leaver.page.locator(".chat-username")).to_have_text("2 members")  # the message counted nothing again
    for tab in (owner, leaver):
        expect(tab.page.locator(".chat-name")).to_have_text("Quick")
        expect(tab.page.locator(".recent .contact.group")).to_have_count(1)
    expect(owner.system_lines).to_have_text(["You created the group “Slow” with Bob and Carol",
                                             "You renamed the group to “Quick”", "Bob left"], timeout=8000)
    expect(owner.page.locator(".chat-username")).to_have_text("2 members")
    expect(panel.locator(".member .contact-name")).to_have_text(["Alice", "Carol"])


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_members_panel_leaves_the_composer_and_the_messages_usable(live, tabs, viewport):
    """On a desktop the panel sits beside the conversation, which narrows: nothing of it is covered. On a
    phone it covers the messages and leaves the composer below it."""
    server = live()
    (alice, alice_token), (bob, bob_token) = (server.register(n.lower(), n) for n in ("Alice", "Bob"))
    gid = server.create_group(alice_token, "Side", [bob])
    tab = tabs(server, viewport).login("alice", transport="ws")
    tab.open_chat("Side")
    tab.send("mine, on the right")
    expect(tab.mine("mine, on the right")).to_have_attribute("data-state", re.compile("sent|read"))
    server.send_group(bob_token, gid, "theirs, on the left")
    expect(tab.bubbles).to_have_text(["mine, on the right", "theirs, on the left"])
    panel = tab.open_members()
    expect(panel.locator(".member")).to_have_count(2)
    page, box = tab.page, panel.bounding_box()
    assert box["x"] + box["width"] <= viewport["width"] + 1
    send = page.locator(".composer .send")
    if viewport is DESKTOP:
        messages = page.locator(".messages").bounding_box()
        assert messages["x"] + messages["width"] <= box["x"] + 1 and messages["width"] >= 400
        for bubble in (tab.mine("mine, on the right"), tab.bubbles.last):  # the top element at its middle
            assert bubble.evaluate("""b => { const r = b.getBoundingClientRect();
                return b.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }""")
    else:
        assert send.bounding_box()["y"] >= box["y"] + box["height"] - 1  # the composer below the panel
    page.fill(".composer textarea", "sent with the panel open")
    send.click()  # Playwright clicks only what is on top: a covered button fails here
    expect(tab.bubbles.last).to_have_text("sent with the panel open")
    expect(panel).to_be_visible()


def test_removing_a_member_asks_first_and_cancel_or_esc_keeps_them(trio):
    server, people, (alice, bob, _carol) = trio("ws")
    alice.create_group("Careful", ["Bob", "Carol"])
    panel = alice.open_members()
    row = panel.locator(".member", has_text="Bob")
    row.locator(".remove").click()
    expect(row.locator(".confirm p")).to_have_text("Remove Bob from the group? They keep what they have received "
                                                   "and get nothing after.")
    expect(row.locator(".cancel-remove")).to_be_focused()  # Enter twice removes nobody
    row.locator(".cancel-remove").click()
    expect(row.locator(".confirm")).to_have_count(0)
    expect(row.locator(".remove")).to_be_focused()
    row.locator(".remove").click()
    alice.page.keyboard.press("Escape")  # Esc answers the question, the panel stays
    expect(row.locator(".confirm")).to_have_count(0)
    expect(panel).to_be_visible()
    expect(panel.locator(".member")).to_have_count(3)
    assert len(server.http.ok("GET", "/api/groups", token=people["Bob"][1])["groups"]) == 1

    alice.page.click(".lang-switch [data-lang=zh] >> visible=true")
    row.locator(".remove").click()
    expect(row.locator(".confirm p")).to_have_text("将Bob移出群聊？对方会保留已收到的消息，之后不再收到新消息。")
    in_language(alice.page, "zh")
    row.locator(".confirm-remove").click()
    expect(panel.locator(".member .contact-name")).to_have_text(["Alice", "Carol"])
    expect(bob.group("Careful").locator(".preview")).to_have_text("Alice removed you")
