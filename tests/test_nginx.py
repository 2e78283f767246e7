"""The README's nginx config in front of two app processes routes HTTP, long polls and WebSocket, and uploads:
their chunks spread over both processes, and either serves the file (its bytes in the database, its links signed
with the secret both share)."""
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from .conftest import REAL_POSTGRES, REAL_REDIS
from .helpers import Http, WsClient, free_port, wait_for
from .processes import Process

CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx-imdemo.conf"
pytestmark = pytest.mark.real_backend


@pytest.fixture
def proxied(tmp_path, database_url, make_config):
    missing = [what for what, ok in [("nginx", shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")),
                                     ("a real Redis and PostgreSQL", REAL_REDIS and REAL_POSTGRES)] if not ok]
    if missing:
        if os.environ.get("IMDEMO_REQUIRE_REAL_BACKEND") == "1":
            pytest.fail(f"needs {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")
    args = ("--database", database_url, "--redis", REAL_REDIS, "--redis-prefix", make_config().redis_prefix,
            "--no-demo", "--send-rate", "0", "--register-rate", "0", "--public-ws-url", "/ws", "--trust-proxy")
    apps = [Process(*args).wait_ready(), Process(*args).wait_ready()]
    port = free_port()
    site = CONF.read_text().replace("listen 8000;", f"listen 127.0.0.1:{port};")
    for old, new in [("8080", apps[0].port), ("8081", apps[0].ws_port), ("8090", apps[1].port),
                     ("8091", apps[1].ws_port)]:
        site = re.sub(rf"127\.0\.0\.1:{old};", f"127.0.0.1:{new};", site)
    (tmp_path / "nginx.conf").write_text(
        f"worker_processes 1; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{ worker_connections 256; }}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};\n{site}\n}}\n")
    nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(tmp_path), "-c",
                              str(tmp_path / "nginx.conf"), "-g", "daemon off;"], stderr=subprocess.PIPE)
    http = Http(f"http://127.0.0.1:{port}")

    def up():
        try:
            return http.call("GET", "/healthz", timeout=1)[0] == 200
        except OSError:
            return False
    try:
        wait_for(up, timeout=15, message="nginx to proxy /healthz")
        yield http, port, apps
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for app in apps:
            app.stop()


def test_http_long_poll_and_websocket_all_pass_through_nginx(proxied):
    http, port, _ = proxied
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (_, alice_token), (bob, bob_token) = http.login("alice"), http.login("bob")
    ws_url = http.ok("GET", "/api/config")["ws_url"]
    assert ws_url == f"ws://127.0.0.1:{port}/ws"
    socket = WsClient(ws_url)
    socket.hello(bob_token, 0)
    polled = {}
    poll = threading.Thread(target=lambda: polled.update(
        body=http.ok("GET", "/api/sync?since=0&timeout=20", token=bob_token)))
    poll.start()
    sent = [http.ok("POST", "/api/messages", {"to": bob, "content": f"via nginx {i}"}, token=alice_token)["message"]
            for i in range(4)]  # nginx spreads these over both processes
    frames = socket.recv_until(lambda f: f.get("seq") == 4)
    poll.join(timeout=25)
    assert [f["message"] for f in frames if f.get("type") == "message"] == sent
    polled_messages = [e["message"] for e in polled["body"]["events"] if e["type"] == "message"]
    assert polled_messages and polled_messages == sent[:len(polled_messages)]
    socket.close()


def test_nginx_keeps_metrics_off_the_public_side(proxied):
    """Each process serves /metrics on its own port, for Prometheus; through nginx there is none, however the
    path is spelled (nginx matches the decoded, merged path)."""
    import urllib.error
    import urllib.request

    def status_of(url: str) -> int:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code
    http, _, apps = proxied
    for path in ("/metrics", "//metrics", "/%6Detrics", "/./metrics", "/metrics?name[]=imdemo_deliveries_total"):
        assert status_of(http.base + path) == 404, path
    assert [status_of(app.http.base + "/metrics") for app in apps] == [200, 200]

def test_an_upload_spread_over_both_processes_is_served_by_either(proxied):
    import base64
    import hashlib
    from http.client import HTTPConnection

    http, port, _ = proxied
    http.ok("POST", "/api/register", {"username": "alice", "password": "pw1234"})
    _, token = http.login("alice")
    data = bytes(range(256)) * 4096 * 3  # 3 MiB: three chunks of 1 MiB, each going to either process
    tus = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}"}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    {"filename": "spread.bin", "sha256": hashlib.sha256(data).hexdigest()}.items())
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/api/uploads/", headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
    created = conn.getresponse()
    created.read()
    location = created.getheader("Location")
    for offset in range(0, len(data), 1 << 20):
        conn = HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection: another process
        conn.request("PATCH", location, body=data[offset:offset + (1 << 20)], headers={
            **tus, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 204, answer.status
    fid = http.ok("GET", location, token=token)["file"]["fid"]
    links = [http.ok("POST", "/api/files/links", {"fids": [fid]}, token=token)["links"][str(fid)] for _ in range(2)]
    for link in links:  # signed by either process, read through either
        for _ in range(2):
            conn = HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", link["url"])
            assert conn.getresponse().read() == data
