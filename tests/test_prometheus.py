"""A real Prometheus (Debian's) scrapes a running server with deploy/prometheus-imdemo.yml: after messages are
sent, its query API shows the send counter and the send-to-push histogram moved, and the README's three
example queries answer. Skips without the prometheus binary unless IMDEMO_REQUIRE_PROMETHEUS=1 (CI)."""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .helpers import WsClient, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "prometheus-imdemo.yml"


def readme_queries() -> list[str]:
    """The PromQL of the README's example block, one query a line (comments say what each is)."""
    block = re.search(r"```promql\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    return [line for line in block[1].splitlines() if line.strip() and not line.startswith("#")]


class Prometheus:
    """`prometheus` on a free loopback port, scraping targets every second, with its data in a temp folder."""

    def __init__(self, tmp_path: Path, targets: list[str]):
        config = CONFIG.read_text().replace("scrape_interval: 15s", "scrape_interval: 1s")
        config = re.sub(r"targets: \[.*\]", f"targets: {json.dumps(targets)}", config)
        (tmp_path / "prometheus.yml").write_text(config)
        self.port = free_port()
        self.log = open(tmp_path / "prometheus.log", "w")
        self.popen = subprocess.Popen(
            [shutil.which("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._ready, timeout=30, interval=0.1, message="prometheus to be ready")

    def _ready(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"prometheus exited: {Path(self.log.name).read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def query(self, promql: str) -> list[dict]:
        """The result of an instant query through the HTTP API (a list of {metric, value})."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def number(self, promql: str) -> float | None:
        """The query's one value as a number, None when it has no result."""
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        self.popen.terminate()
        self.popen.wait(timeout=20)
        self.log.close()


@pytest.fixture
def prometheus_scraping(tmp_path, server):
    if not shutil.which("prometheus"):
        if os.environ.get("IMDEMO_REQUIRE_PROMETHEUS") == "1":
            pytest.fail("needs the prometheus binary (apt-get install prometheus)")
        pytest.skip("needs the prometheus binary (apt-get install prometheus); IMDEMO_REQUIRE_PROMETHEUS=1 fails")
    app, http = server
    prometheus = Prometheus(tmp_path, [f"127.0.0.1:{app.config.port}"])
    try:
        wait_for(lambda: prometheus.number('up{job="imdemo"}') == 1, timeout=20, interval=0.2,
                 message="prometheus to scrape the server")
        yield prometheus, app, http
    finally:
        prometheus.stop()


def test_prometheus_sees_the_send_counter_and_the_latency_histogram_move(prometheus_scraping):
    prometheus, app, http = prometheus_scraping
    sent_query = 'sum(imdemo_messages_stored_total{kind="text"})'
    pushed_query = 'sum(imdemo_send_to_push_seconds_count{transport="websocket"})'
    wait_for(lambda: prometheus.number(sent_query) is not None, timeout=10, message="a scrape with the counter")
    before = prometheus.number(sent_query), prometheus.number(pushed_query)
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (_, token), (bob, bob_token) = http.login("alice"), http.login("bob")
    socket = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    socket.hello(bob_token, 0)
    for i in range(5):
        http.ok("POST", "/api/messages", {"to": bob, "content": f"scraped {i}"}, token=token)
        socket.send({"type": "ack", "seq": socket.recv_until(lambda f: f.get("type") == "message")[-1]["seq"]})
    socket.close()
    wait_for(lambda: prometheus.number(sent_query) == before[0] + 5, timeout=20, interval=0.2,
             message="the send counter to move in prometheus")
    wait_for(lambda: prometheus.number(pushed_query) == before[1] + 5, timeout=20, interval=0.2,
             message="the send-to-push histogram to move in prometheus")
    send_rate, p99, retransmissions = readme_queries()
    wait_for(lambda: (prometheus.number(send_rate) or 0) > 0, timeout=20, interval=0.2, message="the send rate")
    wait_for(lambda: not math.isnan(prometheus.number(p99) or math.nan), timeout=20, interval=0.2, message="p99")
    assert 0 < prometheus.number(p99) <= 10  # seconds: the histogram's buckets reach 10 s
    assert prometheus.number(retransmissions) == 0
