"""Browser: two panes at desktop width, one column at phone width, no sideways scrolling; and the
screenshots of docs/screenshots (written there with IMDEMO_SCREENSHOTS=1, else to a temp dir)."""

import pytest

from .browser import DESKTOP, PHONE, chromium_fixture, expect, live_fixture, shots_fixture, tabs_fixture  # noqa: F401

pytestmark = pytest.mark.browser



@pytest.fixture
def story(live):
    """A server with the course's people and a few conversations, seen by zhangsan."""
    server = live()
    me, me_token = server.register("zhangsan", "张三")
    lisi, lisi_token = server.register("lisi", "李四")
    wangwu, wangwu_token = server.register("wangwu", "王五")
    _, zhaoliu_token = server.register("zhaoliu", "赵六")
    server.register("maria", "Maria")
    server.send(zhaoliu_token, me, "周末一起去爬山吗？")
    server.send(me_token, lisi, "Hi 李四, this is imdemo: a small IM system you can read end to end.")
    server.send(lisi_token, me, "Hi 张三! Send me a message and watch my unread badge.")
    server.send(me_token, lisi, "Every message has a seq. The page keeps the highest one it has seen…")
    server.send(lisi_token, me, "…and asks for what comes after it, by short poll, long poll or WebSocket.")
    read_up_to = server.send(me_token, lisi, "So a reconnect misses nothing\nand shows nothing twice.")
    server.http.ok("POST", f"/api/conversations/{me}/read", {"up_to": read_up_to["mid"]}, token=lisi_token)
    server.send(wangwu_token, me, "张三，明天的会改到下午三点。")
    server.send(wangwu_token, me, "Can you bring the slides?")
    return server, {"lisi": lisi_token}


def test_desktop_shows_the_contacts_and_the_chat_side_by_side(story, tabs, shots):
    server, tokens = story
    tab = tabs(server, DESKTOP).login("zhangsan", transport="long")
    expect(tab.badge("王五")).to_have_text("2")
    sidebar, chat = tab.page.locator(".sidebar"), tab.page.locator(".chat")
    expect(sidebar).to_be_visible()
    expect(chat).to_be_visible()
    tab.page.screenshot(path=str(shots / "desktop-main.png"))

    tab.open_chat("李四")
    tab.send("Open a second tab as lisi (password 1234) to see it live.")
    expect(tab.mine("second tab")).to_have_attribute("data-state", "sent")
    expect(tab.mine("So a reconnect")).to_have_attribute("data-state", "read")
    left, right = sidebar.bounding_box(), chat.bounding_box()
    assert left["x"] == 0 and 280 <= left["width"] <= 400
    assert right["x"] >= left["x"] + left["width"] - 1 and right["width"] > 800
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    tab.page.locator(".composer textarea").blur()
    tab.page.screenshot(path=str(shots / "desktop-chat.png"))


def test_phone_shows_one_column_and_the_chat_covers_the_list(story, tabs, shots):
    server, _ = story
    tab = tabs(server, PHONE).login("zhangsan", transport="long")
    sidebar, chat = tab.page.locator(".sidebar"), tab.page.locator(".chat")
    expect(tab.badge("王五")).to_have_text("2")
    expect(chat).to_be_hidden()
    assert sidebar.bounding_box()["width"] == PHONE["width"]
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tab.page.screenshot(path=str(shots / "phone-main.png"))

    tab.open_chat("王五")
    expect(chat).to_be_visible()
    expect(sidebar).to_be_hidden()
    assert chat.bounding_box()["width"] == PHONE["width"]
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tab.send("好的，我带上。")
    expect(tab.bubbles).to_have_count(3)
    tab.page.locator(".composer textarea").blur()
    tab.page.screenshot(path=str(shots / "phone-chat.png"))

    tab.page.click(".back")
    expect(sidebar).to_be_visible()
    expect(chat).to_be_hidden()
    expect(tab.badge("王五")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_sidebar_stays_put_whatever_the_status_line_says(live, tabs, viewport, language):
    """"Connected · WebSocket" is longer than "Connected · Short poll": the language switch beside it
    wrapped onto a line of its own and the contacts jumped about 30 px. Nothing moves now, on any
    transport, offline, in either language."""
    server = live()
    server.register("zhangsan", "张三")
    server.register("lisi", "李四")
    tab = tabs(server, viewport, locale={"en": "en-US", "zh": "zh-CN"}[language]).login("zhangsan")
    page, light = tab.page, tab.page.locator(".status-light")

    def places():
        return [page.locator(part).bounding_box() for part in (".sidebar", ".status-row", ".lists", ".everyone li")]
    expect(light).to_have_attribute("data-state", "connected")
    first = places()
    for transport in ("short", "long", "ws", "short", "ws"):
        page.click(f".transport-switch [data-transport={transport}]")
        expect(light).to_have_attribute("data-state", "connected")
        assert places() == first, transport
    server.stop()
    expect(light).to_have_attribute("data-state", "offline")
    assert places() == first
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
