"""Browser: large groups (SPEC section 15, read diffusion) in real tabs on every transport. A large group's
messages come by the group's own gseq, without a seq of the user's own timeline; the page keeps a gseq
cursor per large group beside its seq (web/js/group-cursors.js), so each message shows once, in order,
counts once in the badges, and survives a reconnect; more than a page missed while away (a gap) shows the
group's newest page and goes on; joining and leaving while the page is open; a small group that switches
to large while open (its system line, nothing lost); no "read by k of n" there; the members panel says how
the group is stored and lists thousands a page at a time; Chinese, and desktop and phone width."""
import re

import pytest

from imdemo.config import LAB_TIMERS
from imdemo.services.large_sync import GAP_AFTER

from .browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    POLL_INTERVAL,
    chromium_fixture,
    expect,
    live_fixture,
    tabs_fixture,
)
from .helpers import wait_for
from .lab_timeline import use, wait_for_rows

pytestmark = pytest.mark.browser

TRANSPORTS = ["short", "long", "ws"]
WITHIN_MS = {"short": int((POLL_INTERVAL + 2) * 1000), "long": 3000, "ws": 3000}
LARGE = "Large group · stored once for everyone (read diffusion)"


def make_large(server, owner_token: str, name: str, members: list[int]) -> int:
    """A group stored by read diffusion from its start; return its gid."""
    body = {"name": name, "members": members, "large": True}
    group = server.http.ok("POST", "/api/groups", body, token=owner_token)["group"]
    assert group["storage"] == "read"
    return group["gid"]


@pytest.fixture
def crowd(live, tabs):
    """A server (with overrides) and alice, bob, carol and dave; return (server, people, login), where
    login(name, transport) opens a tab of that user."""
    def start(**overrides):
        server = live(**overrides)
        people = {name: server.register(name.lower(), name) for name in ("Alice", "Bob", "Carol", "Dave")}
        return server, people, lambda name, transport: tabs(server).login(name.lower(), transport=transport)
    return start


def each_once(tab, texts: list[str]) -> None:
    expect(tab.bubbles).to_have_text(texts)
    assert tab.bubbles.all_text_contents() == texts


def all_acknowledged(server, transport: str) -> None:
    """On the WebSocket, every push has been acknowledged (by seq, or by group and gseq): nothing waits to be
    sent again, so no connection is closed for a missing ACK."""
    if transport == "ws":
        wait_for(lambda: server.gateway.pending_count() == 0, timeout=10, message="every push acknowledged")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_large_group_chats_live_in_order_once_with_exact_badges(crowd, transport):
    server, people, login = crowd()
    (alice, alice_token), (bob, bob_token), (carol, carol_token) = (people[n] for n in ("Alice", "Bob", "Carol"))
    gid = make_large(server, alice_token, "Crowd", [bob, carol])
    a, b, c = (login(name, transport) for name in ("alice", "bob", "carol"))
    within = WITHIN_MS[transport]
    a.open_chat("Crowd")
    a.send("one")
    a.send("two")
    for tab in (b, c):
        expect(tab.group("Crowd").locator(".badge")).to_have_text("2", timeout=within)
        expect(tab.total).to_have_text("2 unread")
    expect(a.mine("two")).to_have_attribute("data-state", "sent")
    expect(a.page.locator(".read-by:visible")).to_have_count(0)  # no "read by 0 of 2" in a large group

    burst = [f"burst {i}" for i in range(6)]  # from bob's other device, as fast as the server takes them
    for text in burst:
        server.send_group(bob_token, gid, text)
    expect(c.group("Crowd").locator(".badge")).to_have_text("8", timeout=within)
    expect(c.page).to_have_title("(8) imdemo")
    expect(b.group("Crowd").locator(".badge")).to_have_count(0)  # his own sends read what came before them
    everything = ["one", "two", *burst]
    each_once(a, everything)  # open: in order, each once, and read at once
    expect(a.group("Crowd").locator(".badge")).to_have_count(0)

    server.send_group(carol_token, gid, "carol, elsewhere")
    expect(c.group("Crowd").locator(".badge")).to_have_count(0, timeout=within)
    expect(c.total).to_have_text("All caught up")
    expect(b.group("Crowd").locator(".badge")).to_have_text("1", timeout=within)
    b.open_chat("Crowd")
    each_once(b, everything + ["carol, elsewhere"])
    expect(b.page.locator(".msg.theirs .sender").first).to_have_text("Alice")
    b.send("bob answers")
    each_once(a, everything + ["carol, elsewhere", "bob answers"])
    expect(c.group("Crowd").locator(".badge")).to_have_text("1", timeout=within)
    c.open_chat("Crowd")
    each_once(c, everything + ["carol, elsewhere", "bob answers"])
    for tab in (a, b, c):
        expect(tab.page.locator(".read-by:visible")).to_have_count(0)
        expect(tab.page).to_have_title("imdemo")
    all_acknowledged(server, transport)
    expect(c.open_members().locator(".group-storage")).to_have_text(re.compile(f"^{re.escape(LARGE)}"))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_after_the_server_was_away_what_was_sent_meanwhile_arrives_once(crowd, transport):
    server, people, login = crowd()
    (alice, alice_token), (bob, _), (carol, carol_token) = (people[n] for n in ("Alice", "Bob", "Carol"))
    gid = make_large(server, alice_token, "Steady", [bob, carol])
    b, c = login("bob", transport), login("carol", transport)
    b.open_chat("Steady")
    server.send_group(alice_token, gid, "before")
    each_once(b, ["before"])
    expect(c.group("Steady").locator(".badge")).to_have_text("1", timeout=WITHIN_MS[transport])
    server.stop()
    for tab in (b, c):
        expect(tab.status).to_have_text(re.compile("^Offline"))
    server.start()  # same ports and database; the tabs come back with backoff
    server.send_group(alice_token, gid, "while away 1")
    server.send_group(carol_token, gid, "while away 2")
    server.send_group(alice_token, gid, "while away 3")
    for tab in (b, c):
        expect(tab.status).to_have_text(re.compile("^Connected"), timeout=15000)
    each_once(b, ["before", "while away 1", "while away 2", "while away 3"])
    expect(c.group("Steady").locator(".badge")).to_have_text("1")  # her own send read the two before it
    server.send_group(alice_token, gid, "after")
    expect(c.group("Steady").locator(".badge")).to_have_text("2", timeout=WITHIN_MS[transport])
    each_once(b, ["before", "while away 1", "while away 2", "while away 3", "after"])
    c.open_chat("Steady")
    each_once(c, ["before", "while away 1", "while away 2", "while away 3", "after"])
    all_acknowledged(server, transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_more_than_a_page_missed_shows_the_newest_page_and_goes_on(crowd, tabs, transport):
    server, people, login = crowd(**LAB_TIMERS)
    (alice, alice_token), (bob, _), (carol, _) = (people[n] for n in ("Alice", "Bob", "Carol"))
    gid = make_large(server, alice_token, "Flood", [bob, carol])
    b, c = login("bob", transport), login("carol", transport)
    b.open_chat("Flood")
    server.send_group(alice_token, gid, "first")
    each_once(b, ["first"])
    for tab in (b, c):  # the lab's offline control: this tab hears nothing until it is switched back
        tab.page.click(".status .lab-toggle")
        tab.page.fill("#lab .lab-seconds", "120")
        use(tab, "offline")
    missed = GAP_AFTER + 5
    for i in range(missed):
        server.send_group(alice_token, gid, f"flood {i}")
    for tab in (b, c):  # (a held long poll finds out when its answer, the flood's first, never arrives)
        expect(tab.status).to_have_text(re.compile("^Offline"), timeout=8000)
        use(tab, "offline")  # back online now
        expect(tab.status).to_have_text(re.compile("^Connected"), timeout=15000)
    newest = [f"flood {i}" for i in range(missed - 30, missed)]  # the newest page: 30 messages
    expect(b.bubbles.last).to_have_text(f"flood {missed - 1}")
    assert b.bubbles.all_text_contents()[-30:] == newest
    assert len(set(b.bubbles.all_text_contents())) == b.bubbles.count()  # nothing twice
    expect(c.group("Flood").locator(".badge")).to_have_text("99+")
    expect(c.total).to_have_text(f"{missed + 1} unread")  # exact: the server's count, not a local guess
    expect(c.page).to_have_title(f"({missed + 1}) imdemo")
    server.send_group(alice_token, gid, "and on")  # the page goes on from the newest
    expect(b.bubbles.last).to_have_text("and on")
    expect(c.total).to_have_text(f"{missed + 2} unread", timeout=WITHIN_MS[transport])
    assert b.bubbles.all_text_contents()[-31:] == newest + ["and on"]
    scrolled_up = "list => { list.scrollTop = 0; return list.querySelector('.msg .text').textContent; }"
    wait_for(lambda: b.page.locator(".messages").evaluate(scrolled_up) == "first", timeout=15,
             message="the older pages, scrolled up to")  # the pages before the gap still come
    texts = b.bubbles.all_text_contents()
    assert texts == ["first", *[f"flood {i}" for i in range(missed)], "and on"], texts[:5]
    c.open_chat("Flood")  # it lands on the first unread (SPEC 17), under the "New messages" line
    expect(c.page.locator(".messages li.new-messages + li.msg .text")).to_have_text("first")
    to_bottom = ("list => { list.scrollTop = list.scrollHeight;"
                 " return [...list.querySelectorAll('.msg .text')].pop().textContent; }")
    wait_for(lambda: c.page.locator(".messages").evaluate(to_bottom) == "and on", timeout=15,
             message="the newer pages, scrolled down to")
    expect(c.total).to_have_text("All caught up")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_recall_and_an_edit_in_a_large_group_reach_every_tab_and_the_badge_drops(crowd, transport):
    """Signals by gseq (SPEC 15 and 17): no counter moved for the large group's message, so no unread hint
    comes when it is recalled; the page reads the counts again and the badge drops to the server's."""
    server, people, login = crowd()
    (alice, alice_token), (bob, _), (carol, _) = (people[n] for n in ("Alice", "Bob", "Carol"))
    gid = make_large(server, alice_token, "Signals", [bob, carol])
    b, c = login("bob", transport), login("carol", transport)
    b.open_chat("Signals")
    wrong = server.send_group(alice_token, gid, "sent by mistake")
    typo = server.send_group(alice_token, gid, "helo")
    within = WITHIN_MS[transport]
    expect(c.group("Signals").locator(".badge")).to_have_text("2", timeout=within)
    each_once(b, ["sent by mistake", "helo"])
    path = f"/api/conversations/g{gid}/messages/"
    server.http.ok("POST", f"{path}{wrong['mid']}/recall", {}, token=alice_token)
    server.http.ok("PATCH", f"{path}{typo['mid']}", {"content": "hello"}, token=alice_token)
    expect(b.page.locator(".messages li.recalled .system-text")).to_have_text("Alice recalled a message",
                                                                              timeout=within)
    expect(b.bubbles).to_have_text(["hello"], timeout=within)
    expect(c.group("Signals").locator(".badge")).to_have_text("1", timeout=within)
    expect(c.total).to_have_text("1 unread")
    c.open_chat("Signals")
    expect(c.page.locator(".messages li.recalled .system-text")).to_have_text("Alice recalled a message")
    expect(c.bubbles).to_have_text(["hello"])
    all_acknowledged(server, transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_joining_and_leaving_while_the_page_is_open(crowd, transport):
    server, people, login = crowd()
    (alice, alice_token), (bob, _), (carol, carol_token), (dave, _) = people.values()
    gid = make_large(server, alice_token, "Hall", [bob, carol])
    b, d = login("bob", transport), login("dave", transport)
    within = WITHIN_MS[transport]
    b.open_chat("Hall")
    server.send_group(alice_token, gid, "before dave")
    each_once(b, ["before dave"])
    server.http.ok("POST", f"/api/groups/{gid}/members", {"uids": [dave]}, token=alice_token)
    expect(d.group("Hall").locator(".preview")).to_have_text("Alice added you", timeout=within)
    server.send_group(carol_token, gid, "welcome dave")
    expect(d.group("Hall").locator(".badge")).to_have_text("1", timeout=within)
    d.open_chat("Hall")
    each_once(d, ["welcome dave"])  # nothing from before he joined
    expect(d.system_lines).to_have_text(["Alice added you"])

    server.http.ok("DELETE", f"/api/groups/{gid}/members/{bob}", token=alice_token)
    expect(b.system_lines.last).to_have_text("Alice removed you", timeout=within)
    expect(b.page.locator(".not-member")).to_be_visible()
    server.send_group(carol_token, gid, "bob is gone")
    expect(d.bubbles.last).to_have_text("bob is gone", timeout=within)
    d.send("dave says hi")
    expect(d.mine("dave says hi")).to_have_attribute("data-state", "sent")
    server.send_group(alice_token, gid, "still going")
    expect(d.bubbles.last).to_have_text("still going", timeout=within)
    each_once(b, ["before dave", "welcome dave"])  # the removal and nothing after it
    expect(b.group("Hall").locator(".badge")).to_have_count(0)
    expect(b.group("Hall").locator(".preview")).to_have_text("Alice removed you")
    each_once(d, ["welcome dave", "bob is gone", "dave says hi", "still going"])
    all_acknowledged(server, transport)


def test_a_member_removed_between_two_short_polls_still_sees_what_was_said_before_the_removal(crowd):
    """On a short poll the removal may come before the poll that would have brought the group's last messages:
    the next poll brings them with the removal, and nothing said after it."""
    server, people, login = crowd(poll_interval=6)
    (alice, alice_token), (bob, _), (carol, carol_token), _ = people.values()
    gid = make_large(server, alice_token, "Hall", [bob, carol])
    b = login("bob", "short")
    b.open_chat("Hall")
    server.send_group(alice_token, gid, "seen")
    expect(b.bubbles).to_have_text(["seen"], timeout=10000)
    with b.page.expect_response(lambda r: "/api/sync" in r.url, timeout=10000):
        pass  # the next poll is a whole interval away
    server.send_group(carol_token, gid, "said before the removal")
    server.http.ok("DELETE", f"/api/groups/{gid}/members/{bob}", token=alice_token)
    server.send_group(carol_token, gid, "said after it")
    expect(b.system_lines.last).to_have_text("Alice removed you", timeout=10000)
    each_once(b, ["seen", "said before the removal"])
    expect(b.group("Hall").locator(".badge")).to_have_count(0)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_small_group_that_grows_large_while_open_says_so_and_loses_nothing(crowd, transport):
    server, people, login = crowd(large_group_at=3)
    (alice, alice_token), (bob, bob_token), (carol, _), (dave, _) = people.values()
    gid = server.create_group(alice_token, "Grows", [bob, carol])
    a, b, c = (login(name, transport) for name in ("alice", "bob", "carol"))
    within = WITHIN_MS[transport]
    a.open_chat("Grows")
    b.open_chat("Grows")
    panel = b.open_members()
    expect(panel.locator(".group-storage")).to_have_text(re.compile("^Small group · a copy for each member"))
    a.send("small 1")
    expect(a.mine("small 1")).to_have_attribute("data-state", re.compile("sent|read"))  # stored before the next
    server.send_group(bob_token, gid, "small 2")
    each_once(b, ["small 1", "small 2"])
    expect(a.mine("small 1").locator(".read-by")).to_have_text("Read by 1 of 2", timeout=within)

    server.http.ok("POST", f"/api/groups/{gid}/members", {"uids": [dave]}, token=alice_token)  # 4 > 3
    switched = "The group has 4 members: from here on each message is stored once for everyone (read diffusion)"
    for tab in (a, b):
        expect(tab.system_lines).to_have_text([re.compile("created the group"), re.compile("added Dave$"), switched],
                                              timeout=within)
    expect(panel.locator(".group-storage")).to_have_text(re.compile(f"^{re.escape(LARGE)}"))
    expect(a.page.locator(".read-by:visible")).to_have_count(0)  # no read marks to show any more

    a.send("large 1")
    expect(a.mine("large 1")).to_have_attribute("data-state", "sent")
    server.send_group(bob_token, gid, "large 2")
    expect(a.bubbles.last).to_have_text("large 2")
    a.send("large 3")
    everything = ["small 1", "small 2", "large 1", "large 2", "large 3"]
    each_once(a, everything)
    each_once(b, everything)
    expect(c.group("Grows").locator(".badge")).to_have_text("5", timeout=within)  # before and after, once each
    expect(c.page).to_have_title("(5) imdemo")
    c.open_chat("Grows")
    each_once(c, everything)
    expect(c.system_lines.last).to_have_text(switched)


def test_the_member_count_follows_changes_that_come_faster_than_the_member_list(crowd):
    """A 万人群's member list may take a moment to come: the changes after it count as they come."""
    server, people, login = crowd()
    (alice, alice_token), (bob, _), (carol, _), (dave, _) = people.values()
    gid = make_large(server, alice_token, "Busy", [bob])
    tab = login("alice", "ws")
    tab.open_chat("Busy")
    expect(tab.page.locator(".chat-username")).to_have_text("2 members")
    held = []
    asked = f"**/api/groups/{gid}/members?*"  # a large group's first page of members
    tab.page.route(asked, lambda route: held.append(route))  # each member list asked for waits
    server.http.ok("POST", f"/api/groups/{gid}/members", {"uids": [carol]}, token=alice_token)
    server.http.ok("DELETE", f"/api/groups/{gid}/members/{carol}", token=alice_token)
    server.http.ok("POST", f"/api/groups/{gid}/members", {"uids": [dave]}, token=alice_token)
    expect(tab.system_lines).to_have_text([re.compile("created"), "You added Carol", "You removed Carol",
                                           "You added Dave"])
    expect(tab.page.locator(".chat-username")).to_have_text("3 members")
    wait_for(lambda: tab.page.evaluate("1") and len(held) == 3, message="the three member lists asked for")
    for route in held:
        route.continue_()
    tab.page.unroute(asked)
    panel = tab.open_members()
    expect(panel.locator(".member .contact-name")).to_have_text(["Alice", "Bob", "Dave"])
    expect(tab.page.locator(".chat-username")).to_have_text("3 members")

def test_a_large_group_of_hundreds_lists_its_members_a_page_at_a_time(live, tabs):
    """The page asks the server for a page of members at a time and finds one by name there: it never reads
    a 万人群's ten thousand at once (a megabyte, read again after each join while the group is open)."""
    server = live()
    owner, owner_token = server.register("alice", "Alice")
    uids = [server.register(f"user{i:03d}")[0] for i in range(259)]
    gid = make_large(server, owner_token, "Town", uids)
    tab = tabs(server).login("alice", transport="ws")
    asked = []
    tab.page.on("request", lambda r: asked.append(r.url.split("/api/groups/", 1)[1]) if "/api/groups/" in r.url
                else None)
    tab.open_chat("Town")
    expect(tab.system_lines).to_have_text("You created the group “Town” with user000, user001, user002, user003, "
                                          "user004, user005, user006, user007, user008, user009 and 249 others")
    panel = tab.open_members()
    expect(panel.locator("h2")).to_have_text("Members (260)")
    expect(panel.locator(".group-storage")).to_have_text(re.compile(f"^{re.escape(LARGE)}"))
    expect(panel.locator(".member")).to_have_count(50)
    expect(panel.locator(".list-shown")).to_have_text("Showing 50 of 260")
    panel.locator(".list-more").click()
    expect(panel.locator(".member")).to_have_count(100)
    panel.locator(".list-find").fill("user25")
    expect(panel.locator(".member .contact-name")).to_have_text([f"user{i}" for i in range(250, 259)])
    expect(panel.locator(".list-more")).to_be_hidden()
    panel.locator(".list-find").fill("nobody like this")
    expect(panel.locator(".list-none")).to_have_text("No member matches.")
    panel.locator(".list-find").fill("")
    expect(panel.locator(".member")).to_have_count(50)
    members = [a for a in asked if a.startswith(f"{gid}/members") or a == str(gid)]
    assert members[0] == f"{gid}/members?limit=50" and str(gid) not in members  # a page, never the whole list
    after_50th = f"{gid}/members\\?after=[0-9]+\\.{uids[48]}&limit=50"  # Show more: the page after the 50th
    assert any(re.fullmatch(after_50th, a) for a in members)
    assert any("q=user25" in a for a in members)  # the search asked the server
    held = []  # the member list asked for after the removal waits: the count moves by the system line alone
    tab.page.route(f"**/api/groups/{gid}/members?*", lambda route: held.append(route))
    server.http.ok("DELETE", f"/api/groups/{gid}/members/{uids[200]}", token=owner_token)  # never loaded here
    expect(tab.page.locator(".chat-username")).to_have_text("259 members")
    expect(panel.locator("h2")).to_have_text("Members (259)")
    wait_for(lambda: tab.page.evaluate("1") and held, message="the member list asked for again")
    for route in held:
        route.continue_()
    tab.page.unroute(f"**/api/groups/{gid}/members?*")
    for shown in (100, 150):
        panel.locator(".list-more").click()
        expect(panel.locator(".member")).to_have_count(shown)
    server.http.ok("POST", f"/api/groups/{gid}/members", {"uids": [uids[200]]}, token=owner_token)  # a join
    expect(panel.locator("h2")).to_have_text("Members (260)")
    wait_for(lambda: tab.page.evaluate("1") and f"{gid}/members?limit=150" in asked, message="150 asked again")
    expect(panel.locator(".member")).to_have_count(150)  # the open panel is not folded back to one page
    expect(panel.locator(".member").last).to_contain_text("user148")
    box = tab.page.locator(".composer textarea")
    box.press_sequentially("@user20")  # user201..209 were never loaded; user200 joined again, so comes last
    expect(tab.page.locator(".mention-option .mention-name")).to_have_text(
        [f"user20{i}" for i in range(1, 10)] + ["user200"])
    box.press("Enter")
    expect(box).to_have_value("@user201 ")
    box.press_sequentially("hi")
    box.press("Enter")
    expect(tab.bubbles).to_have_text(["@user201 hi"])
    assert server.http.ok("GET", f"/api/groups/{gid}/messages", token=owner_token)["messages"][-1]["mentions"] == [
        uids[201]]
    server.send_group(server.http.login("user007")[1], gid, "hello from the crowd")
    expect(tab.bubbles).to_have_text(["@user201 hi", "hello from the crowd"])

    everyone = tab.page.locator(".lists .paged")  # "All contacts": as many people, drawn the same way
    expect(everyone.locator(".everyone .contact-name")).to_have_count(50)
    expect(everyone.locator(".everyone .contact-name").nth(2)).to_have_text("user002")  # by name
    expect(everyone.locator(".list-shown")).to_have_text("Showing 50 of 259")
    everyone.locator(".list-find").fill("USER25")
    expect(everyone.locator(".everyone .contact-name")).to_have_text([f"user{i}" for i in range(250, 259)])
    everyone.locator(".everyone .contact", has_text="user257").click()
    expect(tab.page.locator(".chat-name")).to_have_text("user257")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_large_group_in_chinese_and_english_at_desktop_and_phone_width(live, tabs, tmp_path, viewport):
    from .test_browser_i18n import in_language, switch_and_walk

    server = live(large_group_at=3)
    zhang, zhang_token = server.register("zhangsan", "张三")
    (li, li_token), (wang, _), (zhao, _) = (server.register(u, n) for u, n in
                                            (("lisi", "李四"), ("wangwu", "王五"), ("zhaoliu", "赵六")))
    gid = server.create_group(zhang_token, "万人群", [li, wang])
    server.send_group(li_token, gid, "群还小的时候：每人一份。")
    server.http.ok("POST", f"/api/groups/{gid}/members", {"uids": [zhao]}, token=zhang_token)
    server.send_group(li_token, gid, "现在是大群了：所有人共用一份。")
    tab = tabs(server, viewport, locale="zh-CN").login("zhangsan")
    expect(tab.status).to_have_text("已连接 · 长连接")
    expect(tab.group("万人群").locator(".badge")).to_have_text("2")
    tab.open_chat("万人群")
    tab.send("收到，消息只存一份。")
    expect(tab.mine("收到")).to_have_attribute("data-state", "sent")
    expect(tab.system_lines.last).to_have_text("群成员已达 4 人：此后每条消息所有人共用一份（读扩散）")
    expect(tab.page.locator(".read-by:visible")).to_have_count(0)
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    tab.page.locator(".composer textarea").blur()
    name, shots = "desktop" if viewport is DESKTOP else "phone", tmp_path  # looked at, not kept
    tab.page.screenshot(path=str(shots / f"large-group-{name}-zh.png"))
    panel = tab.open_members()
    expect(panel.locator(".group-storage .storage-kind")).to_have_text("大群 · 所有人共用一份（读扩散）")
    box = panel.bounding_box()
    assert box["x"] + box["width"] <= viewport["width"] + 1
    in_language(tab.page, "zh")
    tab.page.screenshot(path=str(shots / f"large-group-{name}-members-zh.png"))
    switch_and_walk(tab.page, "en", ".connection")
    expect(panel.locator(".group-storage .storage-kind")).to_have_text(LARGE)
    expect(tab.system_lines.last).to_have_text(
        "The group has 4 members: from here on each message is stored once for everyone (read diffusion)")
    tab.page.screenshot(path=str(shots / f"large-group-{name}-members-en.png"))


def test_the_lab_draws_a_large_groups_pushes_and_acks_by_gseq_and_a_lost_one_comes_again(live, tabs):
    server = live(**LAB_TIMERS)
    (alice, _), (_, bob_token) = server.register("alice", "Alice"), server.register("bob", "Bob")
    gid = make_large(server, bob_token, "Lab crowd", [alice])
    tab = tabs(server).login("alice", transport="ws")
    tab.page.click(".status .lab-toggle")
    use(tab, "drop")
    server.send_group(bob_token, gid, "one")
    server.send_group(bob_token, gid, "two")  # past the gap the lost one left: waits for it
    g = f"g{gid}"
    seen = wait_for_rows(tab, [f"in message {g}:2 lost", f"in message {g}:3 gseq_gap", f"out ack {g}:1",
                               f"in message {g}:2 retransmission", f"in message {g}:3 retransmission",
                               f"out ack {g}:3"])
    assert not any(r.startswith("in close") for r in seen)
    expect(tab.group("Lab crowd").locator(".badge")).to_have_text("2")
    tab.open_chat("Lab crowd")
    each_once(tab, ["one", "two"])
    tab.page.reload()  # a reload resumes from the cursors it kept: the hello names the group's gseq
    expect(tab.status).to_have_text(re.compile("^Connected"))
    tab.page.click(".status .lab-toggle")
    server.send_group(bob_token, gid, "three")
    wait_for_rows(tab, [f"in message {g}:4", f"out ack {g}:4"])
    expect(tab.page.locator("#lab .tl-row[data-what=message]").last).to_contain_text(f"message · {g} gseq 4")


def test_the_lab_draws_a_polls_large_group_cursor_and_what_its_answer_brought(live, tabs):
    server = live(**LAB_TIMERS)
    (alice, _), (_, bob_token) = server.register("alice", "Alice"), server.register("bob", "Bob")
    gid = make_large(server, bob_token, "Polled crowd", [alice])
    tab = tabs(server).login("alice", transport="short")
    tab.page.click(".status .lab-toggle")
    tab.page.fill("#lab .lab-seconds", "120")
    use(tab, "offline")
    for text in ("one", "two", "three"):
        server.send_group(bob_token, gid, text)
    use(tab, "offline")  # back online: the next poll asks from gseq 1 and gets the three at once
    g = f"g{gid}"
    wait_for_rows(tab, [r"out poll \d+", f"in events {g}:2 {g}:3 {g}:4"])
    expect(tab.page.locator("#lab .tl-row[data-what=poll]").last).to_contain_text(f"groups {gid}:")
    expect(tab.page.locator("#lab .tl-row[data-what=events]", has_text="gseq").first).to_contain_text(
        f"{g} gseq 2–4 · next")
    expect(tab.group("Polled crowd").locator(".badge")).to_have_text("3")


SOCKET_ACKS = """async () => {
  const {WebSocketTransport} = await import('/static/js/socket.js');
  const sent = [];
  const socket = {readyState: WebSocket.OPEN, send: (text) => sent.push(JSON.parse(text)), close() {}};
  const cursors = new Map();
  const link = {
    config: {ws_url: 'ws://unused/', heartbeat: 30}, api: {token: 't'}, wire: {socket: () => socket},
    since: () => 7, heard() {}, connected() {}, settings() {},
    groups: {hello: () => ({}), get: (gid) => cursors.get(gid)},
    deliver(frames) {
      for (const f of frames) if (f.gseq !== undefined) cursors.set(f.group, f.gseq);
    },
  };
  const stop = new AbortController();
  new WebSocketTransport().run(link, stop.signal).catch(() => {});
  const message = (gseq) => ({type: 'message', group: 5, gseq, message: {mid: gseq, content: 'x'}});
  for (const frames of [[message(1)], [message(2), message(3)], {type: 'message', seq: 8, message: {}}]) {
    socket.onmessage({data: JSON.stringify(frames)});
  }
  const soon = sent.map((f) => ({...f}));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  stop.abort();
  return {soon, later: sent};
}"""


def test_the_page_acks_a_large_groups_frames_together_and_its_own_timeline_at_once(live, tabs):
    """A large group's ACK carries no receipt: the page sends one for every frame of it within 100 ms (at 500
    members, 30 % of the server's CPU a message); its own timeline's ACK (a 1:1 message's "delivered") goes
    out with each frame. The frames are handed to the socket in one task, so no timer runs between them."""
    server = live()
    server.register("alice", "Alice")
    tab = tabs(server).login("alice", transport="short")
    acks = tab.page.evaluate(SOCKET_ACKS)
    assert acks["soon"] == [{"type": "ack", "seq": 7}]  # the own timeline's, at once; the group's waits
    assert acks["later"] == [{"type": "ack", "seq": 7}, {"type": "ack", "group": 5, "gseq": 3}]


def test_all_contacts_finds_someone_past_the_first_thousand_on_the_server(live, tabs):
    """The 万人群's seed makes ten thousand users and GET /api/users lists the first thousand: All contacts says
    how many there are, and its search asks the server, so anyone can be found and written to."""
    server = live()
    _, alice_token = server.register("alice", "Alice")
    crowd = [(f"u{i:05d}", f"用户{i}") for i in range(1, 1201)]
    server.app.services.auth.users.create_many(crowd, server.app.services.auth.users.by_username("alice").password_hash)
    tab = tabs(server).login("alice", transport="ws")
    everyone = tab.page.locator(".lists .paged")
    expect(everyone.locator(".list-shown")).to_have_text("Showing 50 of 1,200")
    everyone.locator(".list-find").fill("U0115")  # u01150..u01159: past the first thousand, in no list yet
    expect(everyone.locator(".everyone .contact-name")).to_have_text([f"用户115{i}" for i in range(10)])
    everyone.locator(".everyone .contact", has_text="用户1155").click()
    expect(tab.page.locator(".chat-name")).to_have_text("用户1155")
    tab.send("hello past the thousand")
    expect(tab.mine("hello past the thousand")).to_have_attribute("data-state", re.compile("sent|delivered"))
    uid, token = server.http.login("u01155")
    newest = server.http.ok("GET", "/api/contacts", token=token)["contacts"][0]
    assert newest["last_message"]["content"] == "hello past the thousand"
    everyone.locator(".list-find").fill("nobody like this")
    expect(everyone.locator(".list-none")).to_have_text("Nobody matches.")
    tab.page.click(".new-group")  # the member picker finds them on the server too
    picker = tab.page.locator("dialog.picker")
    picker.locator("input[name=name]").fill("Far")
    picker.locator(".picker-filter").fill("u01165")
    expect(picker.locator(".picker-list li:visible .contact-name")).to_have_text(["用户1165"])
    picker.locator(".picker-list li:visible input[type=checkbox]").check()
    picker.locator("button[type=submit]").click()
    expect(tab.page.locator(".chat-name")).to_have_text("Far")
    [far] = server.http.ok("GET", "/api/groups", token=alice_token)["groups"]
    members = server.http.ok("GET", f"/api/groups/{far['gid']}", token=alice_token)["members"]
    assert (far["name"], [m["user"]["username"] for m in members]) == ("Far", ["alice", "u01165"])
