"""Hostile input over the WebSocket, property-based: every frame type (hello, ping, ack, send, read and
unknown ones) with random JSON, wrong types, odd Unicode, extreme numbers and unknown fields; non-JSON,
binary, invalid UTF-8, deeply nested and oversized frames. The server answers each with a reply, an error
frame, or a close for the frame's own reason (1007 invalid UTF-8, 1009 too big, 4401 before hello) and
never with an internal error (1011); it changes nothing for what it refuses, and keeps serving.

One real server per test (make_server), shared by the test's examples; the state snapshot is the one of
test_fuzz_http (what the users see and the tables), taken in-process through WebTest on the same app.
"""
from __future__ import annotations

import collections
import json

import pytest
import websocket
from hypothesis import given
from hypothesis import strategies as st

from .helpers import WsClient, wait_for
from .test_fuzz_http import CASES, CLIENT_ID_ALPHABET, FUZZ, ODD_STRINGS, World, json_values, numbers, odd_text

MAX_FRAME = 16 * 1024
FRAME_FIELDS = ("type", "seq", "to", "content", "client_msg_id", "with", "up_to", "token", "since")
ALLOWED_CLOSES = {1007: "invalid UTF-8", 1009: "frame too big"}


def hang_up(client: WsClient) -> None:
    """Close a client and its socket for sure: websocket-client's close() leaves the socket open when the
    server closed first, and a socket collected later warns from inside whatever runs then (even pytest's
    own report formatting, which on Python 3.11 then fails with "AST constructor recursion depth mismatch")."""
    client.close()
    client.ws.shutdown()


class Socket(World):
    """The World of test_fuzz_http, plus alice's WebSocket, reopened whenever a frame got it closed."""

    def __init__(self, app, name: str):
        super().__init__(app, name)
        self.url = f"ws://127.0.0.1:{app.config.websocket_port}/"
        self.cases = CASES.setdefault(name, collections.Counter())
        self.ws: WsClient | None = None
        self.open()

    def open(self) -> WsClient:
        if self.ws is not None:
            hang_up(self.ws)
        self.ws = WsClient(self.url)
        self.ws.hello(self.alice.token, since=10**9)  # everything held already: nothing is replayed
        return self.ws

    def exchange(self, payload, opcode=websocket.ABNF.OPCODE_TEXT) -> tuple[list[dict], int | None]:
        """Send one frame, then a ping; return the frames that came before its pong, or the close code.

        Frames are answered in order, so the ping's pong closes the exchange; a payload that is itself a
        ping is answered with a pong of its own first.
        """
        self.ws.ws.send(payload, opcode)
        frames, pongs = [], 1 + _is_ping(payload, opcode)
        try:
            self.ws.send({"type": "ping"})
        except (OSError, websocket.WebSocketException):
            pass  # closed already: the close frame is still to be read
        while True:
            frame = self.ws.recv(timeout=10)
            if frame is None:
                return frames, self.ws.close_code
            if frame.get("type") == "pong":
                pongs -= 1
                if pongs == 0:
                    return frames, None
                continue
            if frame.get("type") == "message":  # own sends come back as events: acknowledge them
                self.ws.send({"type": "ack", "seq": frame["seq"]})
            frames.append(frame)

    def check_frame(self, payload, opcode=websocket.ABNF.OPCODE_TEXT) -> None:
        """The properties every frame keeps; a refused one must have changed nothing."""
        label = f"{payload!r:.200}"
        frames, closed = self.exchange(payload, opcode)
        errors = [f for f in frames if f.get("type") == "error"]
        if closed is not None:
            self.cases[f"closed {closed}"] += 1
            assert closed in ALLOWED_CLOSES, f"{label}: closed with {closed}"
            self.open()
        else:
            self.cases["error" if errors else "accepted"] += 1
        for frame in errors:
            assert set(frame) - {"client_msg_id"} == {"type", "code", "message"}, frame  # the id: a send's
            assert frame["code"].replace("_", "").isalpha(), frame
        for frame in frames:
            if frame.get("type") == "sent":
                assert frame["message"]["from"] == self.alice.uid
        if errors or closed is not None:
            assert self.snapshot() == self.baseline, f"{label}: refused but changed state"
        else:
            self.baseline = self.snapshot()

    def close(self) -> None:
        if self.ws is not None:
            hang_up(self.ws)


def _is_ping(payload, opcode) -> bool:
    """Tell whether the server will read payload as a ping frame (it parses with the same json module)."""
    if opcode != websocket.ABNF.OPCODE_TEXT or len(payload) > MAX_FRAME:
        return False
    try:
        frame = json.loads(payload)
    except (ValueError, RecursionError):
        return False
    return isinstance(frame, dict) and frame.get("type") == "ping"


@pytest.fixture
def sock(make_server, request):
    """A real server with slow protocol timers (no retransmission mid-example); alice's socket on it."""
    app, _ = make_server(ack_timeout=30.0, heartbeat=30.0, login_attempts=10**9)
    s = Socket(app, request.node.name)
    yield s
    try:
        s.still_serves()
        _a_conversation_still_flows(s)
    finally:
        s.close()
        counts = s.cases
        if counts:
            print(f"\n{request.node.name}: {sum(counts.values())} cases, outcomes {dict(sorted(counts.items()))}")


def _a_conversation_still_flows(s: Socket) -> None:
    bob = WsClient(s.url)
    try:
        bob.hello(s.chat.login("bob").token, since=10**9)
        s.ws = s.ws or s.open()
        s.ws.send({"type": "send", "to": s.bob.uid, "content": "after the storm", "client_msg_id": "last-word"})
        sent = s.ws.recv_until(lambda f: f.get("type") in ("sent", "error"))[-1]
        assert sent["type"] == "sent", sent
    finally:
        hang_up(bob)
    assert s.chat.get(s.bob, f"/api/conversations/{s.alice.uid}/messages", limit=1)["messages"] == [sent["message"]]


def frames(s: Socket) -> st.SearchStrategy:
    """Frame objects: each known type with hostile or plausible fields, unknown types, unknown fields."""
    kinds = st.one_of(st.sampled_from(["hello", "ping", "ack", "send", "read", "welcome", "pong", "sent", "error"]),
                      odd_text, json_values)
    plausible = {
        "seq": st.one_of(numbers, st.integers(0, 100)), "to": st.sampled_from([s.bob.uid, s.carol.uid, s.alice.uid]),
        "content": st.one_of(odd_text, st.text(min_size=1, max_size=50)), "with": st.sampled_from([s.bob.uid, 0]),
        "client_msg_id": st.text(CLIENT_ID_ALPHABET, min_size=1, max_size=64), "up_to": st.integers(0, 100),
        "token": st.sampled_from([s.alice.token, s.bob.token, "x"]), "since": st.integers(0, 10),
    }
    fields = {k: st.one_of(v, json_values, odd_text, numbers) for k, v in plausible.items() if k != "type"}
    known = st.fixed_dictionaries({"type": kinds}, optional=fields)
    unknown = st.dictionaries(odd_text.filter(lambda k: k not in FRAME_FIELDS), json_values, max_size=3)
    return st.builds(lambda a, b: {**b, **a}, known, unknown)


def near_valid(s: Socket) -> st.SearchStrategy:
    """A frame the server would accept, with one field made hostile or one unknown field added."""
    valid = st.sampled_from([{"type": "send", "to": s.bob.uid, "content": "hi"}, {"type": "ack", "seq": 1},
                             {"type": "read", "with": s.bob.uid, "up_to": 1}, {"type": "ping"}])
    hostile = st.one_of(json_values, odd_text, numbers)
    return st.builds(lambda frame, key, value: {**frame, key: value} if key != "type" or not frame else frame,
                     valid, st.one_of(st.sampled_from(FRAME_FIELDS), odd_text), hostile)


def _unescaped(frame: dict) -> str:
    """JSON with its non-ASCII text as is; a lone surrogate cannot travel so (a text frame is UTF-8): escaped."""
    text = json.dumps(frame, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(frame)
    return text


def text_payloads(s: Socket) -> st.SearchStrategy:
    """What a text frame may carry: frame objects, other JSON, broken JSON, nesting, sizes."""
    as_json = st.one_of(frames(s), near_valid(s)).map(json.dumps)
    return st.one_of(
        as_json, as_json, as_json,
        st.one_of(frames(s), near_valid(s)).map(_unescaped),
        json_values.map(json.dumps),
        st.builds(lambda raw, cut: raw[:cut], as_json, st.integers(0, 60)),
        st.text(max_size=100),
        st.integers(1, 8000).map(lambda n: "[" * n + "]" * n),
        st.integers(1, 3000).map(lambda n: '{"type":' * n + '"ping"' + "}" * n),
        st.integers(MAX_FRAME - 40, MAX_FRAME + 40).map(lambda n: '{"type":"ping","pad":"' + "x" * (n - 23) + '"}'),
        st.sampled_from(['{"type":"ping"}{"type":"ping"}', '{"type":NaN}', '{"type":"ack","seq":1e999}',
                         '{"type":"send","to":1,"to":"x"}', "\ufeff{}", "null", '"ping"', "", " "]),
    )


@FUZZ
@given(data=st.data())
def test_hostile_text_frames_after_hello_never_fail_and_change_nothing_when_refused(sock, data):
    sock.check_frame(data.draw(text_payloads(sock), "frame"))


@FUZZ
@given(payload=st.one_of(st.binary(max_size=200), st.just(b""),
                         st.integers(MAX_FRAME - 8, MAX_FRAME + 8).map(lambda n: b"\xff" * n)))
def test_binary_frames_are_refused_with_an_error_frame_or_1009(sock, payload):
    sock.check_frame(payload, websocket.ABNF.OPCODE_BINARY)


INVALID_UTF8 = [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80", b"\xe2\x82"]


@FUZZ
@given(head=st.binary(max_size=40), junk=st.sampled_from(INVALID_UTF8), tail=st.binary(max_size=40))
def test_text_frames_that_are_not_utf8_are_closed_1007_and_change_nothing(sock, head, junk, tail):
    payload = json.dumps({"type": "send", "to": sock.bob.uid, "content": "x"}).encode()
    sock.check_frame(head + junk + tail if head or tail else payload[:10] + junk + payload[10:])


@FUZZ
@given(data=st.data())
def test_hostile_first_frames_are_closed_4401_or_welcomed_never_fail(sock, data):
    """A new connection's first frame: only a hello with a live token and a whole since is welcomed."""
    hello = st.fixed_dictionaries({"type": st.sampled_from(["hello", "hello", "HELLO", "ping"])}, optional={
        "token": st.one_of(st.sampled_from([sock.alice.token, sock.bob.token]), json_values, odd_text),
        "since": st.one_of(st.integers(0, 10**20), numbers, json_values)})
    first = data.draw(st.one_of(hello.map(json.dumps), text_payloads(sock)), "first frame")
    client = WsClient(sock.url)
    try:
        client.send(first)
        reply = client.recv(timeout=10)
    finally:
        hang_up(client)
    if reply is None:
        outcome = client.close_code
        assert outcome in (4401, 1009), f"{first!r:.200} closed with {outcome}"
    else:
        parsed = json.loads(first)
        outcome = "welcome"
        assert reply["type"] == "welcome" and parsed["type"] == "hello"
        assert parsed["token"] in (sock.alice.token, sock.bob.token) and type(parsed.get("since", 0)) is int
        assert reply["uid"] == (sock.alice.uid if parsed["token"] == sock.alice.token else sock.bob.uid)
    sock.cases[str(outcome)] += 1
    if outcome == "welcome":  # accepted: its since acknowledges, which may move a delivered mark
        sock.baseline = sock.snapshot()
    assert sock.snapshot() == sock.baseline


# --- limits: the frame size ---

def _ping_of(size: int) -> str:
    frame = '{"type":"ping","pad":""}'
    return frame[:-2] + "x" * (size - len(frame)) + '"}'


def test_a_frame_of_16_kib_is_read_and_one_byte_more_is_closed_1009(sock):
    assert len(_ping_of(MAX_FRAME)) == MAX_FRAME
    assert sock.exchange(_ping_of(MAX_FRAME)) == ([], None)  # its pong came, then the exchange's own
    frames_before_close, closed = sock.exchange(_ping_of(MAX_FRAME + 1))
    assert closed == 1009 and frames_before_close == []
    sock.open()
    big_send = json.dumps({"type": "send", "to": sock.bob.uid, "content": "x" * 900, "pad": "y" * MAX_FRAME})
    assert sock.exchange(big_send)[1] == 1009
    assert sock.snapshot() == sock.baseline
    sock.open()


def test_a_message_fragmented_past_16_kib_is_closed_1009(sock):
    """The limit is on the message, not on each frame: many small fragments add up."""
    ws = sock.ws.ws
    piece = "x" * 1024
    ws.send_frame(websocket.ABNF.create_frame('{"type":"ping","pad":"' + piece, websocket.ABNF.OPCODE_TEXT, fin=0))
    try:
        for _ in range(20):
            ws.send_frame(websocket.ABNF.create_frame(piece, websocket.ABNF.OPCODE_CONT, fin=0))
        ws.send_frame(websocket.ABNF.create_frame('"}', websocket.ABNF.OPCODE_CONT, fin=1))
    except (OSError, websocket.WebSocketException):
        pass  # the server may close before the last fragment
    assert sock.ws.recv(timeout=10) is None and sock.ws.close_code == 1009
    sock.open()


def test_a_hello_past_16_kib_is_closed_1009_and_welcomes_nobody(sock):
    client = WsClient(sock.url)
    try:
        client.send(json.dumps({"type": "hello", "token": sock.alice.token, "since": 0, "pad": "x" * MAX_FRAME}))
        assert client.recv(timeout=10) is None and client.close_code == 1009
    finally:
        hang_up(client)
    wait_for(lambda: len(sock.app.servers.ws.sessions) == 1, message="only alice's fuzz socket to stay")


# --- inputs that found bugs (a 1011 until 5eeb58c) ---

@pytest.mark.parametrize("content", ["\ud800", "a\udfffb"])
def test_a_send_frame_with_a_lone_surrogate_gets_an_error_frame_and_changes_nothing(sock, content):
    frames_back, closed = sock.exchange(json.dumps({"type": "send", "to": sock.bob.uid, "content": content}))
    if closed is not None:
        sock.open()
    assert closed is None and [f["code"] for f in frames_back if f["type"] == "error"] == ["invalid_content"]
    assert sock.snapshot() == sock.baseline


def test_odd_strings_as_content_over_the_websocket_come_back_exactly(sock):
    """The same text, sent as a frame, is stored and returned as sent (trimmed)."""
    for i, text in enumerate(s for s in ODD_STRINGS if s.strip() and "\x00" not in s and len(s.strip()) <= 1000):
        sock.ws.send({"type": "send", "to": sock.bob.uid, "content": text, "client_msg_id": f"odd-{i}"})
        reply = sock.ws.recv_until(lambda f: f.get("type") in ("sent", "error"))[-1]
        assert reply["type"] == "sent" and reply["message"]["content"] == text.strip(), (text, reply)
        sock.cases["accepted"] += 1
