"""Fixtures: a fresh app per test on a temp SQLite file and its own in-process store, or, when
IMDEMO_TEST_REDIS_URL and IMDEMO_TEST_POSTGRES_URL are set, on a real Redis (a key prefix of its own)
and a PostgreSQL database of its own."""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest
import webtest

from imdemo.api.serve import Servers
from imdemo.app import App, create_app
from imdemo.config import Config

from .helpers import Http, LiveGroup, free_port

REAL_REDIS = os.environ.get("IMDEMO_TEST_REDIS_URL", "")
REAL_POSTGRES = os.environ.get("IMDEMO_TEST_POSTGRES_URL", "")
# unread_merge=0: the tests read a group's counts right after its send; merging (run.py's default, 500 ms) has
# its own tests (test_unread_merge.py, test_storm.py, and the crash, scale-out and concurrency tests with it on)
FAST = dict(demo=False, password_cost=2**4, send_rate=0, register_rate=0, threads=64, inspect=False, unread_merge=0)


@pytest.fixture
def database_url(tmp_path):
    """A database of this test's own: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if not REAL_POSTGRES:
        yield f"sqlite:///{tmp_path / 'imdemo.db'}"
        return
    import psycopg2  # only the real-backend run needs it

    name = "t_" + uuid.uuid4().hex[:12]
    admin = psycopg2.connect(REAL_POSTGRES)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield REAL_POSTGRES.rsplit("/", 1)[0] + "/" + name
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture
def make_config(database_url):
    """Return a function that builds this test's Config with overrides; every call shares one database."""
    prefix = f"t{uuid.uuid4().hex[:10]}:" if REAL_REDIS else ""

    def make(**overrides) -> Config:
        values = dict(FAST, database=database_url, redis=REAL_REDIS, redis_prefix=prefix)
        values.update(overrides)
        return Config(**values)
    return make


@pytest.fixture
def config(make_config) -> Config:
    return make_config()


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    app.close()


@pytest.fixture
def services(app):
    return app.services


@dataclass
class User:
    uid: int
    token: str
    username: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Chat:
    """AuthActions for imdemo: register, log in and call the API through WebTest."""

    def __init__(self, client: webtest.TestApp):
        self.client = client

    def register(self, username: str, password: str = "pw1234", nickname: str | None = None) -> User:
        body = {"username": username, "password": password}
        if nickname:
            body["nickname"] = nickname
        self.client.post_json("/api/register", body, status=201)
        return self.login(username, password)

    def login(self, username: str, password: str = "pw1234") -> User:
        data = self.client.post_json("/api/login", {"username": username, "password": password}).json
        return User(data["user"]["uid"], data["token"], username)

    def send(self, user: User, to: int, content: str, status: int = 201, **extra) -> dict:
        body = {"to": to, "content": content, **extra}
        return self.client.post_json("/api/messages", body, headers=user.headers, status=status).json

    def get(self, user: User | None, path: str, status: int = 200, **params) -> dict:
        headers = user.headers if user else {}
        return self.client.get(path, params=params, headers=headers, status=status).json

    def post(self, user: User | None, path: str, body=None, status: int = 200) -> dict:
        headers = user.headers if user else {}
        response = self.client.post_json(path, body if body is not None else {}, headers=headers, status=status)
        return response.json if response.body else {}


@pytest.fixture
def client(app: App) -> webtest.TestApp:
    return webtest.TestApp(app.wsgi)


@pytest.fixture
def chat(client) -> Chat:
    return Chat(client)


@pytest.fixture
def make_server(make_config):
    """Return a function that starts an app on free ports, with config overrides; all are stopped after."""
    running = []

    def start(**overrides) -> tuple[App, Http]:
        port = free_port()
        app = create_app(make_config(port=port, ws_port=free_port(), **overrides))
        servers = Servers(app)
        app.servers = servers  # tests reach the gateway through it
        running.append((app, servers))
        return app, Http(f"http://127.0.0.1:{port}")
    yield start
    for app, servers in reversed(running):
        servers.stop()
        app.close()


@pytest.fixture
def server(make_server) -> tuple[App, Http]:
    return make_server()


@pytest.fixture
def members(make_server):
    """A live server with a small group (write diffusion) of alice, bob and carol; dave outside it."""
    group = LiveGroup(make_server)
    yield group
    group.close()


@pytest.fixture
def large(make_server):
    """The same with a large group (read diffusion)."""
    group = LiveGroup(make_server, large=True)
    yield group
    group.close()
