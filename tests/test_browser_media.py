"""Browser: pictures and files in the chat (SPEC section 16). Attach by the button, a drop or a paste; a progress
bar and Cancel; the picture as a thumbnail on every transport and large on a click; a file as a card that
downloads; 秒传 sends a picture already in the conversation without uploading it; a cut in the middle of a 20 MB
upload resumes from the server's offset, each byte received once; both languages, phone width."""
from __future__ import annotations

import re
import time

import pytest

from .browser import PHONE, chromium_fixture, expect, live_fixture, shots_fixture, tabs_fixture  # noqa: F401
from .media import image_bytes, sha256

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n" + b"minutes of the meeting\n" * 400


@pytest.fixture
def pair(live, tabs):
    server = live()
    server.register("alice", "Alice")
    server.register("bob", "Bob")

    def login(transport: str | None = "ws", **tab):
        alice = tabs(server, **tab).login("alice", transport=transport)
        bob = tabs(server, **tab).login("bob", transport=transport)
        alice.open_chat("Bob")
        return server, alice, bob
    return login


# A drop on the conversation, or a paste in the composer, of one file, as the browser dispatches them
DISPATCH = """([event, name, bytes]) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], name, {type: 'image/png'}));
    const init = {bubbles: true, cancelable: true};
    if (event === 'drop') {
      const pane = document.querySelector('.chat-open');
      pane.dispatchEvent(new DragEvent('dragover', {...init, dataTransfer: data}));
      pane.dispatchEvent(new DragEvent('drop', {...init, dataTransfer: data}));
    } else {
      const box = document.querySelector('.composer textarea');
      box.dispatchEvent(new ClipboardEvent('paste', {...init, clipboardData: data}));
    }
}"""


def attach(tab, name: str, data: bytes, mime: str) -> None:
    tab.page.set_input_files(".attach-input", files=[{"name": name, "mimeType": mime, "buffer": data}])


def on_page_wait(tab, condition, what: str, timeout: float = 20) -> None:
    """Wait for condition while the page runs: the test's route handlers run only while Playwright is called."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        tab.page.wait_for_timeout(50)


def server_offset(server) -> int:
    row = server.app.db.execute_sql('SELECT "offset" FROM im_upload').fetchone()
    return int(row[0]) if row else 0


def thumbnail_loaded(tab, name: str):
    """The picture called name in the open conversation, once its image has loaded."""
    image = tab.page.locator(f'.messages .photo img[alt="{name}"]')
    expect(image).to_have_count(1, timeout=8000)
    tab.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                               timeout=8000)
    return image


@pytest.mark.parametrize("transport", ["short", "long", "ws"])
def test_a_picture_reaches_the_other_tab_as_a_thumbnail_and_opens_large(pair, transport):
    server, alice, bob = pair(transport)
    attach(alice, "cat.png", image_bytes("PNG", (900, 600)), "image/png")
    thumbnail_loaded(alice, "cat.png")
    expect(alice.page.locator(".uploads")).to_be_hidden()
    expect(bob.contact("Alice").locator(".preview")).to_have_text("[Picture]", timeout=5000)
    bob.open_chat("Alice")
    image = thumbnail_loaded(bob, "cat.png")
    assert "/thumb?expires=" in image.get_attribute("src")  # a signed link: an <img> sends no token
    assert (image.get_attribute("width"), image.get_attribute("height")) == ("240", "160")
    image.click()
    large = bob.page.locator(".lightbox img")
    expect(large).to_be_visible()
    bob.page.wait_for_function("img => img.complete && img.naturalWidth === 900", arg=large.element_handle())
    bob.page.keyboard.press("Escape")
    expect(bob.page.locator(".lightbox")).to_have_count(0)


def test_a_file_is_a_card_that_downloads(pair):
    server, alice, bob = pair()
    attach(alice, "minutes.pdf", PDF, "application/pdf")
    bob.open_chat("Alice")
    card = bob.page.locator(".messages .file-card")
    expect(card.locator(".file-name")).to_have_text("minutes.pdf", timeout=8000)
    expect(card.locator(".file-meta")).to_have_text(re.compile(r"^9(\.\d)? kB · application/pdf$"))
    with bob.page.expect_download() as download:
        card.click()
    assert download.value.suggested_filename == "minutes.pdf"
    assert open(download.value.path(), "rb").read() == PDF


def test_a_dropped_file_and_a_pasted_screenshot_are_sent(pair):
    server, alice, bob = pair()
    for event, name in (("drop", "dropped.png"), ("paste", "")):
        alice.page.evaluate(DISPATCH, [event, name, list(image_bytes("PNG", (120, 80), color=(10, 9 * len(name), 40)))])
    thumbnail_loaded(alice, "dropped.png")
    thumbnail_loaded(alice, "pasted.png")  # a screenshot from the clipboard has no name: the page gives one


def test_a_picture_already_in_the_conversation_is_sent_at_once_without_uploading(pair):
    server, alice, bob = pair()
    photo = image_bytes("JPEG", (640, 480), noise=True)
    attach(alice, "sunset.jpg", photo, "image/jpeg")
    thumbnail_loaded(alice, "sunset.jpg")
    bob.open_chat("Alice")
    thumbnail_loaded(bob, "sunset.jpg")
    patches = []
    bob.page.on("request", lambda r: r.method in ("POST", "PATCH") and "/api/uploads/" in r.url and patches.append(r))
    attach(bob, "sunset-again.jpg", photo, "image/jpeg")  # the same bytes: bob may read them (alice sent them)
    expect(bob.page.locator(".messages .msg.mine .photo img")).to_have_count(1, timeout=8000)
    assert patches == []  # 秒传: no upload was created, no byte sent
    _, carol = server.register("carol", "Carol")
    status, answer, _ = server.http.call("POST", "/api/files/check", {"sha256": sha256(photo), "size": len(photo)},
                                         carol)
    assert (status, answer) == (200, {"file": None})  # carol may not read it: no shortcut for her


def test_a_cut_in_the_middle_of_a_20_mb_upload_resumes_from_the_servers_offset(pair):
    server, alice, bob = pair()
    data = b"".join(bytes([i % 251]) * 4096 for i in range(5120))  # 20 MiB of a file that is not a picture
    received, patches = [], []

    def cut(route, request):
        if request.method != "PATCH":
            return route.continue_()
        patches.append(request)
        response = route.fetch()  # the server gets the chunk...
        received.append((int(request.headers["upload-offset"]), len(request.post_data_buffer), response.status))
        if len(patches) in (3, 4):
            route.abort("connectionreset")  # ...and its answer is lost on the way, twice in a row
        else:
            route.fulfill(response=response)
    alice.page.route("**/api/uploads/*", cut)
    attach(alice, "big.bin", data, "application/octet-stream")
    expect(alice.page.locator('.upload[data-state="waiting"]')).to_have_count(1, timeout=15000)
    expect(alice.page.locator(".upload-state")).to_contain_text("Connection lost")
    card = alice.page.locator(".messages .file-card .file-name")
    expect(card).to_have_text("big.bin", timeout=30000)
    assert [status for _, _, status in received] == [204] * len(received)  # never a 409: each byte sent once
    assert sum(length for _, length, _ in received) == len(data)
    assert [offset for offset, _, _ in received] == sorted({offset for offset, _, _ in received})
    (size, stored), = server.app.db.execute_sql("SELECT size, upload_size FROM im_file").fetchall()
    assert size == stored == len(data)


def test_cancel_stops_an_upload_and_the_server_drops_its_bytes(pair):
    server, alice, bob = pair()
    held = []
    alice.page.route("**/api/uploads/*", lambda route, request: held.append(route) if request.method == "PATCH"
                     else route.continue_())
    attach(alice, "slow.bin", b"z" * 3_000_000, "application/octet-stream")
    expect(alice.page.locator('.upload[data-state="uploading"]')).to_have_count(1, timeout=8000)
    alice.page.click(".upload-cancel")
    expect(alice.page.locator(".upload-state")).to_have_text("Cancelled")
    for route in held:
        route.abort()
    on_page_wait(alice, lambda: server.app.db.execute_sql("SELECT COUNT(*) FROM im_upload").fetchone()[0] == 0,
                 "the cancelled upload deleted on the server")
    alice.page.click(".upload-cancel")  # Dismiss
    expect(alice.page.locator(".uploads")).to_be_hidden()
    expect(alice.page.locator(".messages .msg")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_pictures_and_files_at_phone_width_in_both_languages(pair, shots, language):
    server, alice, bob = pair(None, viewport=PHONE, locale="zh-CN" if language == "zh" else "en-US")
    attach(alice, "cat.png", image_bytes("PNG", (900, 600), color=(240, 160, 60)), "image/png")
    thumbnail_loaded(alice, "cat.png")
    attach(alice, "会议纪要.pdf", PDF, "application/pdf")
    stored = alice.page.locator(".messages li[data-mid] .file-card")  # not its copy still on its way
    expect(stored).to_have_count(1, timeout=8000)
    box = stored.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # the card fits the phone
    expect(alice.page.locator(".attach")).to_have_attribute("title", "发送图片或文件" if language == "zh"
                                                           else "Attach a picture or a file")
    held = []  # a third file stays on its way: the tray shows its progress and its Cancel
    alice.page.route("**/api/uploads/*", lambda route, request: held.append(route) if request.method == "PATCH"
                     and int(request.headers["upload-offset"]) > 0 else route.continue_())
    attach(alice, "holiday.mov", b"m" * 3 * 1024 * 1024, "video/quicktime")
    expect(alice.page.locator(".upload-state")).to_have_text("正在上传… 33%" if language == "zh" else "Uploading… 33%",
                                                             timeout=8000)
    alice.page.screenshot(path=str(shots / f"media-phone-{language}.png"))
    alice.page.click(".upload-cancel")
    for route in held:
        route.abort()


def test_the_labs_offline_control_cuts_an_upload_which_resumes_from_the_servers_offset(pair):
    server, alice, bob = pair()
    alice.page.click(".status .lab-toggle")
    alice.page.fill("#lab .lab-offline input", "2")
    sent, statuses = [], []

    def slowly(route, request):  # a slower network, so the cut lands in the middle
        if request.method == "PATCH":
            sent.append((int(request.headers["upload-offset"]), len(request.post_data_buffer)))
            time.sleep(0.15)
        route.continue_()
    alice.page.route("**/api/uploads/*", slowly)
    alice.page.on("response", lambda r: r.request.method == "PATCH" and statuses.append(r.status))
    data = bytes(range(256)) * (20 * 4096)  # 20 MiB
    attach(alice, "offline.bin", data, "application/octet-stream")
    on_page_wait(alice, lambda: server_offset(server) >= 3 * 1024 * 1024, "3 MiB on the server")
    alice.page.click("#lab [data-experiment=offline]")
    expect(alice.page.locator('.upload[data-state="waiting"]')).to_have_count(1, timeout=5000)
    expect(alice.page.locator(".messages .file-card .file-name")).to_have_text("offline.bin", timeout=40000)
    assert set(statuses) == {204}
    assert sum(length for _, length in sent) == len(data)  # each byte sent once, none from zero again
    assert [offset for offset, _ in sent] == sorted({offset for offset, _ in sent})


def test_a_picture_in_a_group_reaches_every_member(live, tabs):
    server = live()
    _, alice_token = server.register("alice", "Alice")
    bob_uid, _ = server.register("bob", "Bob")
    carol_uid, _ = server.register("carol", "Carol")
    server.create_group(alice_token, "Trip", [bob_uid, carol_uid])
    alice, bob = tabs(server).login("alice", transport="ws"), tabs(server).login("bob", transport="long")
    alice.page.locator(".recent .contact.group").click()
    attach(alice, "beach.jpg", image_bytes("JPEG", (1200, 800), color=(30, 140, 200)), "image/jpeg")
    thumbnail_loaded(alice, "beach.jpg")
    expect(bob.group("Trip").locator(".preview")).to_have_text("Alice: [Picture]", timeout=5000)
    bob.group("Trip").click()
    thumbnail_loaded(bob, "beach.jpg")


def test_a_file_above_the_limit_is_refused_in_the_tray_before_a_byte_is_sent(live, tabs):
    server = live(max_upload_mb=1)
    server.register("alice", "Alice")
    server.register("bob", "Bob")
    alice = tabs(server).login("alice", transport="ws")
    alice.open_chat("Bob")
    requests = []
    alice.page.on("request", lambda r: "/api/uploads/" in r.url and requests.append(r))
    attach(alice, "huge.bin", b"h" * (1024 * 1024 + 1), "application/octet-stream")
    expect(alice.page.locator(".upload-state")).to_have_text("Not sent: Too large: at most 1 MB")
    assert requests == []
