"""Where a request body ends, over raw sockets against a real server: a malformed chunked body is bad input,
and a request framed two ways at once (Content-Length and Transfer-Encoding, RFC 9112 section 6.1) is
refused and its connection closed, so nothing in its body is ever answered as a second request."""
from __future__ import annotations

import json
import socket

import pytest


@pytest.fixture
def served(make_server):
    """A real server with alice and bob; return (app, alice's token, bob's uid, a sender of raw requests)."""
    app, http = make_server()
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    token, bob = http.login("alice")[1], http.login("bob")[0]

    def exchange(raw: bytes) -> tuple[list[tuple[int, dict | None]], bool]:
        """Send raw bytes on one kept-alive connection; return every answer (status, JSON body) and
        whether the server closed the connection (rather than waiting for more)."""
        with socket.create_connection(("127.0.0.1", app.config.port), timeout=2) as s:
            s.sendall(raw)
            data, closed = b"", False
            try:
                while chunk := s.recv(65536):
                    data += chunk
                closed = True
            except TimeoutError:  # still open: the server waits for another request
                pass
        return _answers(data), closed
    return app, token, bob, exchange


def _answers(data: bytes) -> list[tuple[int, dict | None]]:
    """Split what a server wrote into (status, JSON body) per response (bodies have a Content-Length)."""
    answers = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        headers = dict(line.split(b": ", 1) for line in lines[1:])
        length = int(headers.get(b"Content-Length", b"0"))
        body, data = rest[:length], rest[length:]
        is_json = headers.get(b"Content-Type", b"").startswith(b"application/json")
        answers.append((int(lines[0].split()[1]), json.loads(body) if is_json else None))
    return answers


def _post(token: str, headers: str, body: bytes) -> bytes:
    return (f"POST /api/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\n{headers}\r\n").encode() + body


def _chunked(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)


def _stored(app) -> int:
    return app.db.execute_sql("SELECT COUNT(*) FROM im_msg_content").fetchone()[0]


@pytest.mark.parametrize("size", [b"zz", b"g1", b"0x10", b""])
@pytest.mark.parametrize("length", [None, 5])
def test_a_malformed_chunk_size_is_400_in_the_json_shape_and_stores_nothing(served, size, length):
    app, token, bob, exchange = served
    payload = json.dumps({"to": bob, "content": "hello"}).encode()
    headers = "Transfer-Encoding: chunked\r\n" + (f"Content-Length: {length}\r\n" if length else "")
    answers, closed = exchange(_post(token, headers, size + b"\r\n" + payload + b"\r\n0\r\n\r\n"))
    assert len(answers) == 1 and answers[0][0] == 400, answers
    assert set(answers[0][1]["error"]) == {"code", "message"}
    assert closed and _stored(app) == 0


def test_a_chunk_without_its_crlf_is_400_and_stores_nothing(served):
    app, token, bob, exchange = served
    payload = json.dumps({"to": bob, "content": "hello"}).encode()
    answers, closed = exchange(_post(token, "Transfer-Encoding: chunked\r\n", b"%x\r\n%sXX0\r\n\r\n" % (
        len(payload), payload)))
    assert [status for status, _ in answers] == [400] and answers[0][1]["error"]["code"] == "malformed_chunked_body"
    assert closed and _stored(app) == 0


def test_content_length_beside_a_chunked_body_is_refused_and_the_rest_is_never_a_second_request(served):
    """Content-Length: 0 beside a chunked body whose bytes are a whole second request: a server that went by
    the length answered the first, then read its body as that second request on the same connection."""
    app, token, bob, exchange = served
    smuggled = _post(token, f"Content-Length: {len(b := json.dumps({'to': bob, 'content': 'smuggled'}).encode())}"
                            "\r\n", b)
    answers, closed = exchange(_post(token, "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", smuggled))
    assert len(answers) == 1, answers  # one answer, not two
    status, body = answers[0]
    assert status == 400 and body["error"]["code"] == "ambiguous_framing"
    assert closed, "the connection must be closed after refusing an ambiguously framed request"
    assert _stored(app) == 0


def test_both_framings_are_refused_whichever_comes_first_and_whatever_the_length(served):
    app, token, bob, exchange = served
    payload = json.dumps({"to": bob, "content": "hello"}).encode()
    for headers in (f"Content-Length: {len(payload)}\r\nTransfer-Encoding: chunked\r\n",
                    f"Transfer-Encoding: chunked\r\nContent-Length: {len(_chunked(payload))}\r\n"):
        answers, closed = exchange(_post(token, headers, _chunked(payload)))
        assert [status for status, _ in answers] == [400] and closed
    assert _stored(app) == 0


def test_transfer_encoding_on_http_1_0_is_refused(served):
    app, token, bob, exchange = served
    payload = json.dumps({"to": bob, "content": "hello"}).encode()
    raw = _post(token, "Connection: Keep-Alive\r\nTransfer-Encoding: chunked\r\n", _chunked(payload))
    answers, closed = exchange(raw.replace(b"HTTP/1.1", b"HTTP/1.0", 1))
    assert [status for status, _ in answers] == [400] and closed and _stored(app) == 0


def test_a_valid_chunked_send_is_stored_once_and_the_connection_closed_after_it(served):
    """Trailers after a chunked body are not read by cheroot: closing after it keeps them from ever being
    parsed as a request."""
    app, token, bob, exchange = served
    payload = json.dumps({"to": bob, "content": "chunked hello"}).encode()
    trailer = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    answers, closed = exchange(_post(token, "Transfer-Encoding: chunked\r\n", b"%x\r\n%s\r\n0\r\n%s" % (
        len(payload), payload, trailer)))
    assert [status for status, _ in answers] == [201] and closed
    assert _stored(app) == 1


def test_a_kept_alive_connection_still_serves_request_after_request(served):
    app, token, bob, exchange = served
    sends = b"".join(_post(token, f"Content-Length: {len(b)}\r\n", b) for b in (
        json.dumps({"to": bob, "content": f"m{i}"}).encode() for i in range(3)))
    answers, closed = exchange(sends)
    assert [status for status, _ in answers] == [201] * 3 and not closed
    assert _stored(app) == 3
