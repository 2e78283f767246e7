"""Browser: logging in, registering and logging out through the pages."""
import re

import pytest

from .browser import chromium_fixture, expect, live_fixture, tabs_fixture  # noqa: F401

pytestmark = pytest.mark.browser


def test_wrong_password_shows_a_clear_message_and_stays_on_login(live, tabs):
    server = live()
    server.register("alice", "Alice")
    tab = tabs(server).goto()
    tab.page.fill("input[name=username]", "alice")
    tab.page.fill("input[name=password]", "not-the-password")
    tab.page.click("#login button[type=submit]")
    expect(tab.page.locator(".form-error")).to_have_text("Wrong username or password.")
    expect(tab.page.locator("#messenger")).to_be_hidden()


def test_register_logs_in_and_logout_returns_to_login(live, tabs):
    server = live()
    server.register("bob", "Bob")
    tab = tabs(server).goto()
    tab.page.click("[data-mode=register]")
    tab.page.fill("input[name=username]", "carol")
    tab.page.fill("input[name=nickname]", "Carol")
    tab.page.fill("input[name=password]", "pw1234")
    tab.page.click("#login button[type=submit]")
    expect(tab.page.locator(".me-name")).to_have_text("Carol")
    expect(tab.page.locator(".everyone .contact")).to_have_text([re.compile("Bob")])
    tab.page.reload()  # the token lives in sessionStorage: a reload stays logged in
    expect(tab.page.locator(".me-name")).to_have_text("Carol")
    tab.page.click(".logout")
    expect(tab.page.locator("#login")).to_be_visible()
    expect(tab.page.locator(".form-note")).to_have_text("You have logged out.")


def test_taken_username_is_explained(live, tabs):
    server = live()
    server.register("alice")
    tab = tabs(server).goto()
    tab.page.click("[data-mode=register]")
    tab.page.fill("input[name=username]", "alice")
    tab.page.fill("input[name=password]", "pw1234")
    tab.page.click("#login button[type=submit]")
    expect(tab.page.locator(".form-error")).to_have_text(re.compile("username is taken"))


@pytest.mark.parametrize("demo", [True, False])
def test_the_demo_hint_shows_only_where_the_demo_accounts_exist(live, tabs, demo):
    tab = tabs(live(demo=demo)).goto()
    hint = tab.page.locator(".login-hint")
    if demo:
        expect(hint).to_contain_text("zhangsan")
        tab.login("zhangsan", "1234")
    else:
        expect(hint).to_be_hidden()
