"""Browser test helpers: Debian's Chromium through Playwright, a live server a test can stop and start
again on the same ports and database, and a Tab: one browser context logged in as one user.

Test modules import the fixtures they use: `from .browser import chromium_fixture, live_fixture, tabs_fixture`
(named *_fixture so the parameters `chromium`, `live`, `tabs` do not shadow an import).
Without Chromium or Playwright the browser tests skip, unless IMDEMO_REQUIRE_BROWSER=1 makes it a failure.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from imdemo.api.serve import HttpServer
from imdemo.api.ws_server import WebSocketGateway
from imdemo.app import create_app

from .helpers import Http, free_port

DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
POLL_INTERVAL = 0.5  # seconds: short polling in tests, so the suite stays fast
TRANSPORT_LABELS = {"short": "Short poll", "long": "Long poll", "ws": "WebSocket"}

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the skip below says so
    sync_playwright = None
    expect = None


def _chromium_path() -> str | None:
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


def _missing_browser() -> str | None:
    if sync_playwright is None:
        return "Playwright for Python is not installed (pip install playwright; never `playwright install`)"
    if not _chromium_path():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module", name="chromium")
def chromium_fixture():
    """One headless Chromium per test module (each module imports this fixture, so a session scope would
    start one per module anyway, nested); each Tab gets a fresh context of it."""
    reason = _missing_browser()
    if reason:
        if os.environ.get("IMDEMO_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    expect.set_options(timeout=5000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """An imdemo server on fixed ports (HTTP and, unless websocket=False, WebSocket) that a test can
    stop and start again, keeping its database: what `python run.py` serves, built like conftest's."""

    def __init__(self, make_config, websocket: bool = True, **overrides):
        values = dict(poll_interval=POLL_INTERVAL, port=free_port(), ws_port=free_port())
        values.update(overrides)
        self.config = make_config(**values)
        self.websocket = websocket
        self.base = f"http://127.0.0.1:{self.config.port}"
        self.http = Http(self.base)
        self.app = self.server = self.gateway = None

    def start(self) -> LiveServer:
        self.app = create_app(self.config)
        if self.websocket:
            self.gateway = WebSocketGateway(self.app.services, self.config).start("127.0.0.1", self.config.ws_port)
        self.server = HttpServer(self.app.wsgi, "127.0.0.1", self.config.port, self.config.threads)
        self.server.start()
        return self

    def stop(self) -> None:
        if self.app is not None:
            self.app.services.sync.shut_down()  # held long polls answer now, as `python run.py` does on Ctrl-C
        if self.gateway is not None:
            self.gateway.stop()
        if self.server is not None:
            self.server.stop()
            self.app.close()
        self.app = self.server = self.gateway = None

    def register(self, username: str, nickname: str = "", password: str = "pw1234") -> tuple[int, str]:
        """Create a user through the API; return (uid, token)."""
        body = {"username": username, "password": password, **({"nickname": nickname} if nickname else {})}
        self.http.ok("POST", "/api/register", body)
        return self.http.login(username, password)

    def send(self, token: str, to: int, content: str) -> dict:
        return self.http.ok("POST", "/api/messages", {"to": to, "content": content}, token=token)["message"]

    def create_group(self, token: str, name: str, members: list[int]) -> int:
        """Make a group through the API; return its gid."""
        return self.http.ok("POST", "/api/groups", {"name": name, "members": members}, token=token)["group"]["gid"]

    def send_group(self, token: str, gid: int, content: str) -> dict:
        return self.http.ok("POST", f"/api/groups/{gid}/messages", {"content": content}, token=token)["message"]


@pytest.fixture(name="live")
def live_fixture(make_config):
    """Return a function that starts a LiveServer with config overrides; every one is stopped after."""
    started: list[LiveServer] = []

    def start(**overrides) -> LiveServer:
        server = LiveServer(make_config, **overrides).start()
        started.append(server)
        return server
    yield start
    for server in started:
        server.stop()


class Tab:
    """One browser context, so one user: its own sessionStorage (the token) and localStorage."""

    def __init__(self, context, base: str):
        self.context = context
        self.base = base
        self.page = context.new_page()
        self.problems: list[str] = []  # uncaught errors, CSP violations and dialogs fail the test
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"CSP violation: {message.text}")

    def _dialog(self, dialog) -> None:
        self.problems.append(f"a dialog opened: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    def goto(self) -> Tab:
        self.page.goto(self.base + "/")
        return self

    def login(self, username: str, password: str = "pw1234", transport: str | None = None) -> Tab:
        """Log in through the form; with transport, start on it (as if chosen on an earlier visit)
        and wait until it is connected."""
        if transport:
            self.context.add_init_script(f"localStorage.setItem('imdemo.transport', '{transport}')")
        self.goto()
        self.page.fill("#login input[name=username]", username)
        self.page.fill("#login input[name=password]", password)
        self.page.click("#login button[type=submit]")
        expect(self.page.locator("#messenger")).to_be_visible()
        if transport:
            self.choose(transport)
        return self

    def choose(self, transport: str) -> None:
        self.page.click(f".transport-switch [data-transport={transport}]")
        expect(self.status).to_have_text(re.compile(f"^Connected · {TRANSPORT_LABELS[transport]}"))

    @property
    def status(self):
        return self.page.locator(".status-text")

    def contact(self, name: str):
        """The entry of name in the recent contacts."""
        return self.page.locator(".recent .contact", has_text=name)

    def badge(self, name: str):
        return self.contact(name).locator(".badge")

    @property
    def total(self):
        return self.page.locator(".me-total")

    def open_chat(self, name: str) -> None:
        """Open the conversation with name, from the recent contacts or else from everyone."""
        entry = self.page.locator(".lists .contact", has_text=name).first
        entry.click()
        expect(self.page.locator(".chat-name")).to_have_text(name)

    def send(self, text: str) -> None:
        """Type text in the composer and press Enter."""
        self.page.fill(".composer textarea", text)
        self.page.press(".composer textarea", "Enter")

    @property
    def bubbles(self):
        """The texts of the messages shown in the open conversation, oldest first."""
        return self.page.locator(".messages .msg .text")

    def mine(self, text: str):
        return self.page.locator(".messages .msg.mine", has_text=text)

    def group(self, name: str):
        """The entry of the group called name in the recent contacts (its name only: a preview such as
        "Alice: hi" would match a person's name)."""
        return self.page.locator(".recent .contact.group").filter(
            has=self.page.locator(".contact-name", has_text=re.compile(f"^{re.escape(name)}$")))

    @property
    def system_lines(self):
        """The membership changes shown in the open group, oldest first."""
        return self.page.locator(".messages li.system .system-text")

    def create_group(self, name: str, members: list[str]) -> None:
        """Make a group through the New group dialog, picking members by name; it opens."""
        self.page.click(".new-group")
        self.page.fill(".picker input[name=name]", name)
        for member in members:
            self.page.locator(".picker-person", has_text=member).locator("input").check()
        self.page.click(".picker button[type=submit]")
        expect(self.page.locator(".picker")).to_be_hidden()
        expect(self.page.locator(".chat-name")).to_have_text(name)

    def open_members(self):
        """Open the members panel of the open group; return it."""
        self.page.click(".members-toggle")
        panel = self.page.locator(".group-panel")
        expect(panel).to_be_visible()
        return panel


@pytest.fixture(name="tabs")
def tabs_fixture(chromium):
    """Return a function that opens a Tab (a fresh context) on a server; all are closed after, and a
    page error, a CSP violation or a dialog in any of them fails the test."""
    opened: list[Tab] = []

    def open_tab(server: LiveServer, viewport: dict | None = None, locale: str = "en-US") -> Tab:
        context = chromium.new_context(viewport=viewport or DESKTOP, locale=locale, timezone_id="UTC")
        tab = Tab(context, server.base)
        opened.append(tab)
        return tab
    yield open_tab
    problems = [problem for tab in opened for problem in tab.problems]
    for tab in opened:
        tab.context.close()
    assert not problems, problems


def screenshot_folder(tmp_path: Path) -> Path:
    """Where a test's screenshots go: docs/screenshots with IMDEMO_SCREENSHOTS=1 (the README's pictures,
    taken again), else the test's temp dir."""
    if os.environ.get("IMDEMO_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path


@pytest.fixture(name="shots")
def shots_fixture(tmp_path) -> Path:
    return screenshot_folder(tmp_path)
