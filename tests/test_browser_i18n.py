"""Browser: the pages in English and Chinese. A Chinese browser gets Chinese without touching anything;
the switch re-renders every string at once, keeping the open conversation, the draft and the connection,
and is remembered; in both languages no visible string is left in the other one (tests/i18n_walk.js
compares the whole page with the table, the lab and its timeline included); times follow the language.
Screenshots of both languages (the phone pairs, of the app and of the lab, go to docs/screenshots with
IMDEMO_SCREENSHOTS=1)."""
import re
from pathlib import Path

import pytest

from imdemo.config import LAB_TIMERS

from .browser import DESKTOP, PHONE, chromium_fixture, expect, live_fixture, screenshot_folder, tabs_fixture  # noqa: F401
from .lab_timeline import rows, use, wait_for_rows

pytestmark = pytest.mark.browser

WALK = (Path(__file__).parent / "i18n_walk.js").read_text(encoding="utf-8")
BROWSER_LOCALE = {"en": "en-US", "zh": "zh-CN"}
SAY = {  # a few strings per language, as the tests/test_browser_*.py match them
    "en": {"connected": "Connected · WebSocket", "lists": ["Recent contacts", "All contacts"], "log_in": "Log in",
           "transports": ["Short poll", "Long poll", "WebSocket"], "total": "2 unread", "read": "Read",
           "today": "Today", "placeholder": "Message", "html": "en-US"},
    "zh": {"connected": "已连接 · 长连接", "lists": ["最近联系人", "所有联系人"], "log_in": "登录",
           "transports": ["短轮询", "长轮询", "长连接"], "total": "总未读消息 2 条", "read": "已读",
           "today": "今天", "placeholder": "输入消息", "html": "zh-CN"},
}


@pytest.fixture
def story(live):
    """A server (inspector on) with the course's people and a few conversations, seen by zhangsan."""
    server = live(inspect=True)
    me, me_token = server.register("zhangsan", "张三")
    lisi, lisi_token = server.register("lisi", "李四")
    _, wangwu_token = server.register("wangwu", "王五")
    server.register("maria", "Maria")
    server.send(me_token, lisi, "李四，周五的分享准备好了吗？")
    server.send(lisi_token, me, "差不多了，就讲 seq 和断线续传。")
    read = server.send(me_token, lisi, "好，记得演示一下长连接的心跳。")
    server.http.ok("POST", f"/api/conversations/{me}/read", {"up_to": read["mid"]}, token=lisi_token)
    server.send(me_token, lisi, "Slides: one cursor for every transport.")
    server.send(wangwu_token, me, "张三，明天的会改到下午三点。")
    server.send(wangwu_token, me, "Can you bring the slides?")
    return server, {"me": me, "lisi": lisi}


def in_language(page, language: str, script: str = f"({WALK})()") -> dict:
    """Walk the page: everything visible is in language (or is data); return what was checked."""
    result = page.evaluate(f"async () => {script}")
    assert result["language"] == language
    assert result["problems"] == [], result["problems"]
    assert len(result["checked"]) >= 3, "the walk found nothing to check"
    return result


def switch_and_walk(page, language: str, where: str) -> dict:
    """Click the switch and walk the page in the same task: every string changed at once, or the walk
    would find the old ones."""
    click = f"document.querySelector('{where} .lang-switch [data-lang={language}]').click();"
    return in_language(page, language, f"{{ {click} return await ({WALK})(); }}")


@pytest.mark.parametrize("browser_locale", ["zh-CN", "zh-TW", "zh"])
def test_a_chinese_browser_gets_the_chinese_login_page_without_touching_the_switch(live, tabs, browser_locale):
    tab = tabs(live(demo=True), locale=browser_locale).goto()
    expect(tab.page.locator("[data-mode=login]")).to_have_text("登录")
    expect(tab.page.locator(".login-lead")).to_have_text(re.compile("即时通讯"))
    hint = tab.page.locator(".login-hint")  # the account names stay bold, in the Chinese word order
    expect(hint).to_have_text(re.compile("^演示账号：zhangsan、lisi、wangwu，密码都是 1234。"))
    expect(hint.locator("b")).to_have_text(["zhangsan", "lisi", "wangwu", "1234"])
    expect(tab.page.locator("#login .lang-switch [data-lang=zh]")).to_have_attribute("aria-pressed", "true")
    in_language(tab.page, "zh")
    switch_and_walk(tab.page, "en", "#login")
    expect(hint).to_have_text("Demo accounts: zhangsan, lisi, wangwu, password 1234. "
                              "Log in as another user in a second tab to chat with yourself.")


def test_a_chinese_browser_gets_the_chinese_messenger_and_inspector(story, tabs):
    server, uids = story
    tab = tabs(server, locale="zh-CN").login("zhangsan")
    page = tab.page
    expect(tab.status).to_have_text("已连接 · 长连接")
    expect(page.locator(".lists h2")).to_have_text(["最近联系人", "所有联系人"])
    expect(tab.total).to_have_text("总未读消息 3 条")  # 1 from 李四, 2 from 王五
    expect(tab.badge("王五")).to_have_attribute("title", "未读数：2")
    expect(page.locator(".transport-switch button")).to_have_text(["短轮询", "长轮询", "长连接"])
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    in_language(page, "zh")

    inspector = tab.context.new_page()
    inspector.goto(server.base + "/inspect")
    expect(inspector).to_have_title("imdemo 观察器")
    expect(inspector.locator("#verdict")).to_have_text("Redis 与数据库一致：每个未读数都对得上。")
    in_language(inspector, "zh")
    inspector.close()


def test_the_switch_changes_every_string_at_once_and_keeps_the_conversation_draft_and_connection(story, tabs):
    server, _ = story
    tab = tabs(server)  # an English browser
    page = tab.page
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    tab.goto()
    page.fill("#login input[name=username]", "zhangsan")
    switch_and_walk(page, "zh", "#login")  # on the login page: the form says it in Chinese, typed text stays
    expect(page.locator("#login button[type=submit]")).to_have_text("登录")
    expect(page.locator("#login input[name=username]")).to_have_value("zhangsan")

    tab.login("zhangsan")  # a new page load: the choice was remembered
    expect(tab.status).to_have_text(SAY["zh"]["connected"])
    tab.open_chat("李四")
    expect(tab.mine("心跳")).to_have_attribute("data-state", "read")
    bubbles = tab.bubbles.all_text_contents()
    page.fill(".composer textarea", "还没写完的草稿, a draft")
    page.evaluate("window.notReloaded = true")
    opened = len(sockets)

    for language in ("en", "zh"):
        say = SAY[language]
        switch_and_walk(page, language, ".connection")
        expect(tab.status).to_have_text(say["connected"])
        expect(page.locator(".lists h2")).to_have_text(say["lists"])
        expect(page.locator(".transport-switch button")).to_have_text(say["transports"])
        expect(tab.total).to_have_text(say["total"])
        expect(tab.mine("心跳").locator(".mark")).to_have_attribute("title", say["read"])
        expect(page.locator(".messages .day")).to_have_text([say["today"]])
        expect(page.locator(".composer textarea")).to_have_attribute("placeholder", say["placeholder"])
        assert page.evaluate("document.documentElement.lang") == say["html"]
        # what the person was doing is all still there: no reload, no new connection
        expect(page.locator(".composer textarea")).to_have_value("还没写完的草稿, a draft")
        expect(page.locator(".chat-name")).to_have_text("李四")
        assert tab.bubbles.all_text_contents() == bubbles
        assert page.evaluate("window.notReloaded") is True
        assert len(sockets) == opened and not sockets[-1].is_closed()
    expect(page).to_have_title("(2) imdemo")


def test_times_and_dates_follow_the_chosen_language(story, tabs):
    server, _ = story
    tab = tabs(server).login("zhangsan")
    page = tab.page
    formats = """async (language) => {
        const {setLanguage, locale} = await import('/static/js/i18n.js');
        const {clockTime, dayLabel, shortTime} = await import('/static/js/dom.js');
        setLanguage(language);
        const day = 24 * 3600 * 1000, old = new Date(Date.now() - 3 * day).toISOString();
        const intl = (options, iso) => new Intl.DateTimeFormat(locale(), options).format(new Date(iso));
        const time = document.querySelector('.recent .contact-time');
        return {locale: locale(), shown: time.textContent, clock: clockTime(time.dateTime),
                expected: intl({hour: 'numeric', minute: '2-digit'}, time.dateTime),
                yesterday: dayLabel(new Date(Date.now() - day).toISOString()), old: dayLabel(old),
                oldExpected: intl({weekday: 'long', month: 'long', day: 'numeric'}, old),
                weekday: shortTime(old), weekdayExpected: intl({weekday: 'short'}, old)};
    }"""
    expect(tab.contact("王五").locator("time")).to_have_text(re.compile(r"\d{1,2}:\d\d\s[AP]M"))
    for language, locale, yesterday, weekday in [("zh", "zh-CN", "昨天", "周"), ("en", "en-US", "Yesterday", "")]:
        seen = page.evaluate(formats, language)
        assert seen["locale"] == locale
        assert seen["shown"] == seen["clock"] == seen["expected"]  # the list was written again, in locale
        assert seen["yesterday"] == yesterday
        assert seen["old"] == seen["oldExpected"] and seen["weekday"] == seen["weekdayExpected"]
        assert seen["weekday"].startswith(weekday)
    expect(tab.contact("王五").locator("time")).to_have_text(re.compile(r"\d{1,2}:\d\d\s[AP]M"))  # en-US: 12-hour


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_visible_string_is_left_in_the_other_language(story, tabs, language):
    """Walk the login form (both modes and an error), the messenger with a conversation open, the
    inspector (agreeing and refusing) and the messenger offline with a failed send."""
    server, uids = story
    tab = tabs(server, locale=BROWSER_LOCALE[language]).goto()
    page = tab.page
    expect(page.locator("#login")).to_be_visible()
    in_language(page, language)
    page.click("[data-mode=register]")
    expect(page.locator("input[name=nickname]")).to_be_visible()
    in_language(page, language)
    page.click("[data-mode=login]")
    page.fill("#login input[name=username]", "zhangsan")
    page.fill("#login input[name=password]", "wrong")
    page.click("#login button[type=submit]")
    expect(page.locator(".form-error")).to_be_visible()
    in_language(page, language)

    tab.login("zhangsan")
    expect(tab.status).to_have_text(SAY[language]["connected"])
    expect(page.locator(".chat-placeholder")).to_be_visible()
    in_language(page, language)
    tab.open_chat("李四")
    expect(tab.mine("心跳")).to_have_attribute("data-state", "read")
    expect(page.locator(".messages")).to_have_class(re.compile("at-start"))  # its ::before says so
    page.hover(".status")  # the status line's title: when the server was last heard
    expect(page.locator(".status")).to_have_attribute("title", re.compile("."))
    checked = in_language(page, language)["checked"]
    assert SAY[language]["read"] in checked and SAY[language]["placeholder"] in checked
    page.click(".status .lab-toggle")  # the lab, on the long default timers: it says how to shorten them
    expect(page.locator("#lab .lab-timers code")).to_have_text("python run.py --lab")
    in_language(page, language)
    page.click("#lab .lab-close")

    inspector = tab.context.new_page()
    inspector.goto(server.base + "/inspect")
    inspector.fill("#pair input[name=a]", str(uids["me"]))
    inspector.fill("#pair input[name=b]", str(uids["lisi"]))
    inspector.click("#pair button[type=submit]")
    tab.send("看看观察器")
    expect(inspector.locator(".action", has_text="POST /api/messages").locator(".step-sql").first).to_be_visible()
    expect(inspector.locator("#tables .table-wrap", has_text="im_msg_content")).to_contain_text("看看观察器")
    expect(inspector.locator("#verdict")).to_have_class("verdict good")
    in_language(inspector, language)
    inspector.fill("#pair input[name=a]", "not-a-uid")
    inspector.click("#pair button[type=submit]")
    expect(inspector.locator("#verdict")).to_have_class("verdict bad")
    in_language(inspector, language)
    inspector.close()  # before the server goes: its polls would fail

    server.stop()
    expect(page.locator(".banner")).to_be_visible()
    tab.send("离线时写的")
    expect(tab.mine("离线时写的")).to_have_attribute("data-state", "failed")
    expect(tab.mine("离线时写的").locator("button.retry")).to_be_visible()
    in_language(page, language)


LAB_SAY = {  # what the lab's rows and marks say in each language, around the same data
    "en": {"short": "Connected · Short poll", "close": "close 4408 ack timeout", "mark": "retransmission 1",
           "tab": "this tab"},
    "zh": {"short": "已连接 · 短轮询", "close": "关闭 4408 ack timeout", "mark": "第 1 次重传", "tab": "本页"},
}


def lab_says(page, language: str) -> None:
    """The timeline's words are in language, its data (codes, reasons, seqs) the same in both."""
    say = LAB_SAY[language]
    expect(page.locator("#lab .tl-row[data-what=close]").first).to_contain_text(say["close"])
    expect(page.locator("#lab .tl-mark-retransmission").first).to_have_text(say["mark"])
    expect(page.locator("#lab .tl-lifelines span").first).to_have_text(say["tab"])
    expect(page.locator("#lab .tl-row[data-what=close] code").first).to_have_text("4408")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_lab_and_its_timeline_speak_one_language_and_a_switch_redraws_them_in_place(live, tabs, shots,
                                                                                        language):
    """The lab open with a timeline of every kind of row (a push, withheld ACKs, retransmissions, the 4408
    close, the reconnect, hints, a message sent twice, polls and a lost poll answer) and the inspector with
    a pending ACK, walked in the browser's language; then the switch: the same rows, in the same order,
    drawn again in the other language in the same task, the panel open, nothing reloaded."""
    server = live(inspect=True, **LAB_TIMERS)
    me, _ = server.register("zhangsan", "张三")
    _, lisi_token = server.register("lisi", "李四")
    tab = tabs(server, locale=BROWSER_LOCALE[language]).login("zhangsan")
    page = tab.page
    expect(tab.status).to_have_text(SAY[language]["connected"])
    page.click(".status .lab-toggle")
    panel = page.locator("#lab")
    expect(panel).to_be_visible()
    in_language(page, language)  # the controls, what the lab is, the empty timeline

    inspector = tab.context.new_page()
    inspector.goto(server.base + "/inspect")
    use(tab, "acks")
    server.send(lisi_token, me, "ACK 被扣下了")
    expect(inspector.locator("#connections .connection-card table")).to_be_visible()
    in_language(inspector, language)  # an open connection and its pending ACK: seq, age, times sent
    inspector.close()
    wait_for_rows(tab, ["note control", "in message 1", "out ack 1 withheld", "in message 1 retransmission duplicate",
                        "in close 4408", "note wait", "out hello 1", "in welcome"])
    use(tab, "acks")
    tab.open_chat("李四")
    use(tab, "twice")
    tab.send("发两次，只存一份")
    wait_for_rows(tab, ["out send", "in sent", "out send again_id", "in sent same_mid"])
    page.click(".transport-switch [data-transport=short]")
    expect(tab.status).to_have_text(LAB_SAY[language]["short"])
    use(tab, "drop")
    server.send(lisi_token, me, "轮询的响应丢了")
    wait_for_rows(tab, [r"out poll \d+", r"in events \d+ lost", "note wait", r"out poll \d+", r"in events \d+ again"])
    lab_says(page, language)
    in_language(page, language)

    other = "zh" if language == "en" else "en"
    drawn = rows(tab)
    page.evaluate("window.notReloaded = true")
    switch_and_walk(page, other, ".connection")  # the walk runs in the click's task: redrawn at once
    assert rows(tab)[:len(drawn)] == drawn  # the same rows in the same order (polls go on meanwhile)
    lab_says(page, other)
    expect(panel).to_be_visible()
    assert page.evaluate("window.notReloaded") is True

    switch_and_walk(page, language, ".connection")
    assert rows(tab)[:len(drawn)] == drawn
    lab_says(page, language)
    page.set_viewport_size(PHONE)  # the lab above the chat, as a phone shows it, at the withheld ACKs' story
    page.locator(".composer textarea").blur()
    page.eval_on_selector("#lab .tl-row[data-what=message]", "row => row.scrollIntoView({block: 'start'})")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(shots[0] / f"lab-phone-{language}.png"))


@pytest.fixture
def shots(tmp_path) -> tuple[Path, Path]:
    """Where the phone pairs go (docs/screenshots with IMDEMO_SCREENSHOTS=1) and where the rest goes."""
    return screenshot_folder(tmp_path), tmp_path


@pytest.mark.parametrize("language", ["en", "zh"])
def test_screenshots_of_both_languages_at_phone_and_desktop_width(story, tabs, shots, language):
    server, _ = story
    docs, other = shots
    phone = tabs(server, PHONE, locale=BROWSER_LOCALE[language]).goto()
    expect(phone.page.locator("#login")).to_be_visible()
    phone.page.screenshot(path=str(other / f"phone-login-{language}.png"))
    phone.login("zhangsan")
    expect(phone.status).to_have_text(SAY[language]["connected"])
    expect(phone.badge("王五")).to_have_text("2")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing spills over
    in_language(phone.page, language)
    phone.page.screenshot(path=str(docs / f"phone-{language}.png"))
    phone.open_chat("李四")
    expect(phone.mine("心跳")).to_have_attribute("data-state", "read")
    phone.page.locator(".composer textarea").blur()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.page.screenshot(path=str(other / f"phone-chat-{language}.png"))

    desktop = tabs(server, DESKTOP, locale=BROWSER_LOCALE[language]).login("zhangsan")
    desktop.open_chat("李四")
    expect(desktop.mine("心跳")).to_have_attribute("data-state", "read")
    desktop.page.locator(".composer textarea").blur()
    desktop.page.screenshot(path=str(other / f"desktop-chat-{language}.png"))
    inspector = desktop.context.new_page()
    inspector.set_viewport_size(DESKTOP)
    inspector.goto(server.base + "/inspect")
    desktop.send("看看观察器")
    expect(inspector.locator(".action", has_text="POST /api/messages")).to_be_visible()
    inspector.screenshot(path=str(other / f"desktop-inspect-{language}.png"))
    inspector.close()
