"""The inspector in Chromium: a message sent in a chat tab shows up underneath, row by row."""
import re

import pytest

from .browser import chromium_fixture, expect, live_fixture, tabs_fixture  # noqa: F401

pytestmark = pytest.mark.browser


def test_inspector_shows_the_rows_and_the_counter_change_of_one_message(live, tabs, chromium):
    server = live(inspect=True)
    alice, _ = server.register("alice", "Alice")
    bob, _ = server.register("bob", "Bob")
    tab = tabs(server).goto().login("alice")
    tab.open_chat("Bob")
    link = tab.page.locator(".inspect-link")
    expect(link).to_be_visible()

    inspector = chromium.new_context().new_page()
    inspector.goto(server.base + link.get_attribute("href"))
    inspector.fill("#pair input[name=a]", str(alice))
    inspector.fill("#pair input[name=b]", str(bob))
    inspector.click("#pair button[type=submit]")

    tab.send("watch me go")
    send = inspector.locator(".action", has_text="POST /api/messages").first
    expect(send).to_be_visible()
    expect(send.locator(".step-sql", has_text="INSERT INTO im_msg_content")).to_contain_text("watch me go")
    expect(send.locator(".step-sql", has_text="INSERT INTO im_msg_relation")).to_contain_text("rows 2")
    expect(send.locator(".step-sql", has_text="INSERT INTO im_msg_contact")).to_contain_text("rows 2")
    expect(send.locator(".step-lua", has_text="unread.on_message")).to_contain_text(f"{bob}_T: null → 1")

    tables = inspector.locator("#tables")
    expect(tables.locator(".table-wrap", has_text="im_msg_content (1)")).to_contain_text("watch me go")
    expect(tables.locator(".table-wrap", has_text="im_msg_relation (2)")).to_be_visible()
    expect(tables.locator(".table-wrap", has_text="im_msg_contact (2)")).to_be_visible()
    expect(inspector.locator("#unread")).to_contain_text(f'{bob}_C = {{"{alice}":"1"}}')
    expect(inspector.locator("#verdict")).to_have_class("verdict good")

    tab.send("你好吗")  # the search index's row: the message's tokens, written in the same commit
    send = inspector.locator(".action", has_text="POST /api/messages").filter(has_text="你好吗").first
    # SQLite's row holds the tokens as text, PostgreSQL's as a tsvector literal ('你好':1 '好吗':2 ...)
    tokens = re.compile("你好 好吗 你 好 吗|'你好':1 '好吗':2 '你':3 '好':4 '吗':5")
    expect(send.locator(".step-sql", has_text="INSERT INTO im_msg_search")).to_contain_text(tokens)
    inspector.context.close()


def test_the_inspector_shows_one_messages_way_with_each_steps_process_and_time(live, tabs, chromium):
    """Lecture 19's trace in the inspector: the message sent while it is open, step by step (the request, the
    commit, the notice heard, the push, the ACK), each with its process and its time since the send."""
    server = live(inspect=True)
    server.register("alice", "Alice")
    bob, _ = server.register("bob", "Bob")
    inspector = chromium.new_context().new_page()
    inspector.goto(server.base + "/inspect")  # open first: the send is traced while someone watches
    expect(inspector.locator("#traces .none")).to_be_visible()
    receiver = tabs(server).login("bob", transport="ws")
    expect(receiver.status).to_contain_text("WebSocket")
    tab = tabs(server).goto().login("alice")
    tab.open_chat("Bob")
    tab.send("follow me")
    trace = inspector.locator("#traces .trace").first
    for step in ("request", "committed", "heard", "pushed", "acknowledged"):
        expect(trace.locator(f".trace-step[data-step={step}]").first).to_be_visible()
    # to bob's connection, and to alice's own (a user's every connection gets her sends too)
    expect(trace.locator(".trace-step[data-step=pushed]", has_text=f"uid {bob} ")).to_contain_text("websocket")
    expect(trace.locator(".trace-head")).to_contain_text("processes: 1")
    expect(trace.locator(".trace-step").first).to_contain_text("+0.0 ms")
    expect(inspector.locator(".action", has_text="POST /api/messages").first.locator(".trace-chip")).to_be_visible()
    inspector.context.close()
