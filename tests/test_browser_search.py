"""Browser: search from the sidebar: 你好, a single character 张 and an English word find the messages the user
may see, newest first, the match marked by <mark> elements (message text never read as HTML); a click opens
the conversation at that message, in view and lit, with the history around it, and scrolling down loads what
came after it. The same in Chinese at phone width, where the conversation covers the results and Back
returns to them. Screenshots of each."""
import re

import pytest

from .browser import PHONE, chromium_fixture, expect, live_fixture, screenshot_folder, tabs_fixture  # noqa: F401
from .helpers import wait_for
from .test_browser_i18n import in_language

pytestmark = pytest.mark.browser


@pytest.fixture
def story(live):
    """Alice and Bob with a long chat, 你好 in its middle; a group of the three; Carol's own chat with Bob."""
    server = live()
    (alice, alice_token), (bob, bob_token), (carol, carol_token) = (
        server.register(name.lower(), name) for name in ("Alice", "Bob", "Carol"))
    for i in range(60):
        server.send(bob_token if i % 2 else alice_token, alice if i % 2 else bob, f"filler {i}")
    found = server.send(bob_token, alice, "你好，Alice! Found me? <b>not bold</b>")
    for i in range(60, 100):
        server.send(bob_token if i % 2 else alice_token, alice if i % 2 else bob, f"filler {i}")
    gid = server.create_group(alice_token, "爬山群", [bob, carol])
    server.send_group(carol_token, gid, "张三说周六见，你好 everyone")
    server.send(carol_token, bob, "你好 Bob, only for you")  # not Alice's to see
    return server, found


def search(tab, query: str):
    tab.page.fill(".search input", query)
    tab.page.press(".search input", "Enter")
    return tab.page.locator(".search-results .result")


def test_search_finds_chinese_and_english_and_opens_the_conversation_at_the_message(story, tabs, tmp_path):
    server, found = story
    shots = screenshot_folder(tmp_path)
    tab = tabs(server).login("alice")
    page = tab.page
    results = search(tab, "你好")
    expect(page.locator(".search-head h2")).to_have_text("Messages with “你好”")
    expect(results).to_have_count(2)  # newest first; Carol's chat with Bob is not Alice's
    expect(results.locator(".contact-name")).to_have_text(["爬山群", "Bob"])
    expect(results.nth(0).locator(".snippet")).to_have_text("Carol: 张三说周六见，你好 everyone")
    expect(results.nth(1).locator("mark")).to_have_text(["你好"])
    expect(results.nth(1).locator(".snippet")).to_have_text("你好，Alice! Found me? <b>not bold</b>")
    expect(results.nth(1).locator(".snippet b")).to_have_count(0)  # the text is text, never HTML
    expect(page.locator(".lists")).to_be_hidden()

    results.nth(1).click()
    expect(page.locator(".chat-name")).to_have_text("Bob")
    hit = page.locator(f".messages li[data-mid='{found['mid']}']")
    expect(hit).to_be_in_viewport()
    expect(hit).to_have_class(re.compile(r"\bfound\b"))
    expect(page.locator(".messages .msg .text", has_text="filler 59")).to_have_count(1)  # the history around it
    expect(page.locator(".messages .msg .text", has_text="filler 60")).to_have_count(1)
    expect(page.locator(".messages .msg .text", has_text="filler 99")).to_have_count(0)  # not yet
    expect(tab.total).to_have_text("1 unread")  # opened is read, to its newest, on the page and on the server
    _, token = server.http.login("alice")
    wait_for(lambda: server.http.ok("GET", "/api/unread", token=token)["total"] == 1, message="read on the server")
    page.screenshot(path=str(shots / "search-opened-desktop-en.png"))
    for _ in range(20):  # scrolling down brings what came after it, up to the newest
        page.locator(".messages").evaluate("ol => { ol.scrollTop = ol.scrollHeight; }")
        if page.locator(".messages .msg .text", has_text="filler 99").count():
            break
        page.wait_for_timeout(100)
    expect(page.locator(".messages .msg .text").last).to_have_text("filler 99")

    expect(search(tab, "张")).to_have_count(1)  # one character
    expect(page.locator(".search-results mark")).to_have_text(["张"])
    hello = search(tab, "FOUND")  # a word, any case
    expect(hello).to_have_count(1)
    expect(hello.locator("mark")).to_have_text(["Found"])
    expect(search(tab, "nobody-says-this")).to_have_count(0)
    expect(page.locator(".search-head h2")).to_have_text("No messages with “nobody-says-this”.")
    page.press(".search input", "Escape")  # back to the contacts
    expect(page.locator(".search-results")).to_be_hidden()
    expect(page.locator(".lists")).to_be_visible()


def test_search_in_chinese_at_phone_width(story, tabs, tmp_path):
    server, found = story
    shots = screenshot_folder(tmp_path)
    tab = tabs(server, viewport=PHONE, locale="zh-CN").login("alice")
    page = tab.page
    expect(page.locator(".search input")).to_have_attribute("placeholder", "搜索聊天记录")
    results = search(tab, "你好")
    expect(page.locator(".search-head h2")).to_have_text("包含“你好”的聊天记录")
    expect(results).to_have_count(2)
    expect(results.nth(0).locator(".snippet")).to_have_text("Carol：张三说周六见，你好 everyone")
    in_language(page, "zh")
    page.screenshot(path=str(shots / "search-phone-zh.png"))
    results.nth(1).click()  # the conversation covers the results
    hit = page.locator(f".messages li[data-mid='{found['mid']}']")
    expect(hit).to_be_in_viewport()
    expect(page.locator(".sidebar")).to_be_hidden()
    page.screenshot(path=str(shots / "search-opened-phone-zh.png"))
    page.click(".back")  # and Back returns to them
    expect(results).to_have_count(2)
    expect(page.locator(".search-head .search-close")).to_have_text("返回联系人")
    page.click(".search-close")
    expect(page.locator(".recent")).to_be_visible()
