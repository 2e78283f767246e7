"""Browser: the lab (SPEC section 12). Each experiment is caused from the lab panel of a real tab on a
server with the lab's short timers (`python run.py --lab`); each test asserts the sequence the timeline
draws and that the message list and the unread badge end with each message once
(tests/lab_timeline.py reads the timeline's rows as "way what detail marks", in any language)."""
import re
from dataclasses import replace

import pytest

from imdemo.config import LAB_TIMERS

from .browser import (  # noqa: F401
    DESKTOP,
    PHONE,
    TRANSPORT_LABELS,
    chromium_fixture,
    expect,
    live_fixture,
    shots_fixture,
    tabs_fixture,
)
from .helpers import free_port, wait_for
from .lab_timeline import rows, use, wait_for_rows

pytestmark = pytest.mark.browser

HOOKS = "import('/static/js/lab-hooks.js').then(({lab}) => [lab.observe, Object.values(lab.faults).some(Boolean)])"


@pytest.fixture
def lab(live, tabs):
    """A server with the lab's timers, alice in a tab on the given transport with the lab panel open, and
    a function through which bob sends her a message over the HTTP API."""
    def start(transport: str = "ws", **overrides):
        server = live(**{**LAB_TIMERS, **overrides})
        alice_uid, _ = server.register("alice", "Alice")
        bob_uid, bob_token = server.register("bob", "Bob")
        tab = tabs(server).login("alice", transport=transport)
        tab.page.click(".status .lab-toggle")
        expect(tab.page.locator("#lab")).to_be_visible()
        send = lambda text: server.send(bob_token, alice_uid, text)  # noqa: E731
        return server, tab, send, {"alice": alice_uid, "bob": bob_uid, "bob_token": bob_token}
    return start


def ends_with_each_once(tab, texts: list[str]) -> None:
    """The badge and the title count every message once; the conversation shows each once, in order."""
    expect(tab.badge("Bob")).to_have_text(str(len(texts)))
    expect(tab.page).to_have_title(f"({len(texts)}) imdemo")
    tab.open_chat("Bob")
    expect(tab.bubbles).to_have_text(texts)
    assert tab.bubbles.all_text_contents() == texts


def test_withheld_acks_bring_the_same_seq_three_times_then_4408_and_a_resume_that_shows_it_once(lab):
    server, tab, send, _ = lab("ws")
    use(tab, "acks")
    send("ack me")
    seen = wait_for_rows(tab, ["in message 1", "out ack 1 withheld", "in message 1 retransmission duplicate",
                               "out ack 1 withheld", "in message 1 retransmission duplicate", "in close 4408",
                               "note wait", "out hello 1", "in welcome"])
    assert [r for r in seen if r.startswith("in message")] == [
        "in message 1", "in message 1 retransmission duplicate", "in message 1 retransmission duplicate"]
    expect(tab.page.locator("#lab .tl-row[data-what=close]")).to_contain_text("4408 ack timeout")
    use(tab, "acks")  # ACKs again: the next message is acknowledged at once
    send("acked")
    wait_for_rows(tab, ["out hello 1", "in message 2", "out ack 2"])
    ends_with_each_once(tab, ["ack me", "acked"])


def test_a_dropped_push_comes_again_after_the_ack_timeout_and_shows_once_in_order(lab):
    server, tab, send, _ = lab("ws")
    use(tab, "drop")
    expect(tab.page.locator("#lab [data-experiment=drop]")).to_have_attribute("aria-pressed", "true")
    send("one")
    send("two")  # arrives past the gap the lost one left: it waits, unacknowledged, for the one before it
    # Both come again when overdue, in one frame if at the same moment (then one cumulative ACK covers both)
    seen = wait_for_rows(tab, ["in message 1 lost", "in message 2 gap", "out ack 0",
                               "in message 1 retransmission", "in message 2 retransmission", "out ack 2"])
    assert not any(r.startswith("in close") for r in seen)
    expect(tab.page.locator("#lab [data-experiment=drop]")).to_have_attribute("aria-pressed", "false")
    ends_with_each_once(tab, ["one", "two"])


def test_without_heartbeats_the_server_closes_after_three_silent_heartbeats_and_the_tab_reconnects(lab):
    server, tab, send, _ = lab("ws")
    use(tab, "heartbeat")
    wait_for_rows(tab, ["out ping withheld", "out ping withheld", "in close 4408", "out hello 0", "in welcome"],
                  timeout=25)
    expect(tab.page.locator("#lab .tl-row[data-what=close]")).to_contain_text("4408 heartbeat timeout")
    send("after the silence")
    wait_for_rows(tab, ["in welcome", "in message 1", "out ack 1"])
    ends_with_each_once(tab, ["after the silence"])


def test_a_silent_cut_is_noticed_by_each_side_within_its_window_and_nothing_is_lost(lab):
    server, tab, send, users = lab("ws", inspect=True)
    server.http.ok("GET", "/api/inspect/actions")  # the inspector is open: the server's side is recorded
    use(tab, "cut")
    wait_for_rows(tab, ["note cut"], timeout=3)
    send("sent during the cut")
    seen = wait_for_rows(tab, ["note cut", "note silent", "note wait", "out hello 0", "in welcome", "in message 1",
                               "out ack 1"], timeout=20)
    assert [r for r in seen if r.startswith("in message")] == ["in message 1"]  # the cut one was never read
    assert not any(r.startswith("in close") for r in seen)  # nor the server's close frame

    def server_side():
        actions = server.http.ok("GET", "/api/inspect/actions")["actions"]
        return [a["name"] for a in actions if a["info"].get("uid") == users["alice"]
                and a["name"].startswith(("WebSocket retransmission", "WebSocket closed"))]
    wait_for(lambda: server_side()[-3:] == ["WebSocket retransmission", "WebSocket retransmission",
                                            "WebSocket closed: ack timeout"], message="the server's ack timeout")
    ends_with_each_once(tab, ["sent during the cut"])


@pytest.mark.parametrize("transport", ["ws", "short"])
def test_a_message_sent_twice_with_one_client_msg_id_is_stored_once(lab, transport):
    server, tab, send, users = lab(transport)
    tab.open_chat("Bob")
    use(tab, "twice")
    tab.send("only once")
    wait_for_rows(tab, ["out send", "in sent", "out send again_id", "in sent same_mid"])
    mids = tab.page.eval_on_selector_all("#lab .tl-row[data-what=sent]", "rows => rows.map(r => r.dataset.mid)")
    assert len(mids) == 2 and mids[0] == mids[1]
    expect(tab.mine("only once")).to_have_attribute("data-state", re.compile("sent|delivered|read"))
    expect(tab.bubbles).to_have_text(["only once"])
    history = server.http.ok("GET", f"/api/conversations/{users['alice']}/messages", token=users["bob_token"])
    assert [m["content"] for m in history["messages"]] == ["only once"]
    assert [m["mid"] for m in history["messages"]] == [int(mids[0])]
    assert server.http.ok("GET", "/api/unread", token=users["bob_token"])["total"] == 1


@pytest.mark.parametrize("transport", ["short", "long", "ws"])
def test_offline_for_n_seconds_then_everything_arrives_in_order_once(lab, transport):
    server, tab, send, _ = lab(transport)
    tab.page.fill("#lab .lab-seconds", "3")
    use(tab, "offline")
    expect(tab.page.locator("#lab [data-experiment=offline]")).to_have_attribute("aria-pressed", "true")
    for n in (1, 2, 3):
        send(f"while offline {n}")
    expect(tab.status).to_have_text(re.compile("^Offline"), timeout=5000)
    seen = wait_for_rows(tab, ["note control", "note wait", "note control"], timeout=10)  # offline, ..., online
    expect(tab.status).to_have_text(re.compile("^Connected"), timeout=10000)
    seen = rows(tab)
    back = max(i for i, r in enumerate(seen) if r == "note control")
    delivered = [r for r in seen if re.match(r"in (message|events) \d", r)]
    assert all(i > back for i, r in enumerate(seen) if re.match(r"in (message|events) \d", r)), seen
    if transport == "ws":
        assert delivered == ["in message 1", "in message 2", "in message 3"]
    else:
        assert delivered[0] == "in events 1 2 3"
    ends_with_each_once(tab, ["while offline 1", "while offline 2", "while offline 3"])


@pytest.mark.parametrize("transport", ["short", "long"])
def test_a_lost_poll_answer_is_asked_for_again_with_the_same_since(lab, transport):
    server, tab, send, _ = lab(transport)
    expect(tab.page.locator("#lab [data-experiment=drop]")).to_have_text("Drop the next poll answer")
    use(tab, "drop")
    send("poll me")
    seen = wait_for_rows(tab, ["in events 1 lost", "note wait", "out poll 0", "in events 1 again"])
    assert [r for r in seen if r.startswith("in events 1")] == ["in events 1 lost", "in events 1 again"]
    ends_with_each_once(tab, ["poll me"])


def test_the_lab_is_collapsed_one_click_away_on_desktop_and_records_nothing_while_closed(live, tabs, shots):
    server = live(**LAB_TIMERS)
    server.register("zhangsan", "张三")
    _, lisi_token = server.register("lisi", "李四")
    me = server.http.login("zhangsan")[0]
    server.send(lisi_token, me, "你好！打开实验室看看 ACK 和重传。")
    tab = tabs(server, DESKTOP).login("zhangsan", transport="ws")
    panel, toggle = tab.page.locator("#lab"), tab.page.locator(".status .lab-toggle")
    expect(panel).to_be_hidden()
    assert tab.page.evaluate(HOOKS) == [None, False]  # closed: no observer, no fault
    toggle.click()
    expect(panel).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    sidebar, chat, box = (tab.page.locator(s).bounding_box() for s in (".sidebar", ".chat", "#lab"))
    assert sidebar["x"] < chat["x"] < box["x"] and 340 <= box["width"] <= 420 and chat["width"] >= 400
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]

    tab.open_chat("李四")
    wait_for_rows(tab, ["in read", "in unread"])  # the open's read and its hints, before the clear
    tab.page.click("#lab .tl-clear")
    expect(tab.page.locator("#lab .tl-row")).to_have_count(0)
    use(tab, "acks")
    server.send(lisi_token, me, "ACK 被扣下了：同一个 seq 会来三次")
    wait_for_rows(tab, ["in message 2", "in message 2 retransmission duplicate",
                        "in message 2 retransmission duplicate", "in close 4408", "out hello 2", "in welcome"])
    tab.page.locator(".composer textarea").blur()
    tab.page.set_viewport_size({"width": DESKTOP["width"], "height": 900})  # room for the whole story
    tab.page.screenshot(path=str(shots / "lab-desktop.png"))
    tab.page.set_viewport_size(DESKTOP)
    use(tab, "acks")

    tab.page.evaluate("import('/static/js/i18n.js').then(({setLanguage}) => setLanguage('zh'))")
    expect(panel.locator("h2")).to_have_text("实验室")
    expect(panel.locator(".tl-mark-retransmission").first).to_have_text("第 1 次重传")
    tab.page.evaluate("import('/static/js/i18n.js').then(({setLanguage}) => setLanguage('en'))")

    use(tab, "heartbeat")  # on, then the panel closes: every fault goes off with it
    tab.page.click("#lab .lab-close")
    expect(panel).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert tab.page.evaluate(HOOKS) == [None, False]
    drawn = len(rows(tab))
    server.send(lisi_token, me, "while the lab is closed")
    expect(tab.bubbles.last).to_have_text("while the lab is closed")
    toggle.click()
    expect(panel).to_be_visible()
    assert len(rows(tab)) == drawn  # nothing was recorded while it was closed


def test_on_a_phone_the_lab_is_one_click_away_from_the_chat_and_sits_above_it(live, tabs, shots):
    server = live(**LAB_TIMERS)
    server.register("zhangsan", "张三")
    server.register("lisi", "李四")
    tab = tabs(server, PHONE).login("lisi", transport="ws")
    tab.open_chat("张三")
    expect(tab.page.locator(".status .lab-toggle")).to_be_hidden()  # the chat covers the list here
    toggle = tab.page.locator(".chat-header .lab-toggle")
    toggle.click()
    panel = tab.page.locator("#lab")
    expect(panel).to_be_visible()
    box, chat = panel.bounding_box(), tab.page.locator(".chat").bounding_box()
    assert box["y"] == 0 and box["width"] == PHONE["width"] and chat["y"] >= box["y"] + box["height"] - 1
    expect(tab.page.locator(".composer textarea")).to_be_in_viewport()
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    use(tab, "twice")
    tab.send("发两次，只存一份")
    wait_for_rows(tab, ["out send", "in sent", "out send again_id", "in sent same_mid"])
    expect(tab.bubbles).to_have_text(["发两次，只存一份"])
    tab.page.locator(".composer textarea").blur()
    tab.page.screenshot(path=str(shots / "lab-phone.png"))
    tab.page.click("#lab .lab-close")
    expect(panel).to_be_hidden()
    assert tab.page.locator(".chat").bounding_box()["height"] == PHONE["height"]


@pytest.mark.parametrize("transport", ["short", "long", "ws"])
def test_a_server_restarted_with_other_timers_is_followed_on_reconnect_and_the_lab_shows_them(live, tabs, transport):
    """The page takes the server's settings again when it reconnects (GET /api/config, and the WebSocket's
    welcome): the lab's timers, and a WebSocket port that moved."""
    server = live()  # run.py's default timers
    server.register("alice", "Alice")
    tab = tabs(server).login("alice", transport=transport)
    tab.page.click(".status .lab-toggle")
    timers = tab.page.locator("#lab .lab-timers")
    expect(timers).to_have_text("Heartbeat 30 s · ACK timeout 5 s · 2 retries. Long for experiments: "
                                "python run.py --lab shortens them.")
    server.stop()
    expect(tab.status).to_have_text(re.compile("^Offline"))
    server.config = replace(server.config, **{**LAB_TIMERS, "ack_retries": 3}, ws_port=free_port())
    server.start()  # same HTTP port and database, the lab's timers, the WebSocket elsewhere
    expect(tab.status).to_have_text(f"Connected · {TRANSPORT_LABELS[transport]}", timeout=15000)
    expect(timers).to_have_text("Heartbeat 5 s · ACK timeout 2 s · 3 retries.")
    if transport == "ws":  # what each experiment explains quotes the new timers too
        expect(tab.page.locator("#lab [data-experiment=acks]")).to_have_attribute("title", re.compile("every 2 s"))
