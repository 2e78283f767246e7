"""Config: flags over environment over defaults."""
from imdemo.config import Config


def test_defaults_are_the_embedded_demo():
    c = Config.from_args([], {})
    assert (c.host, c.port, c.websocket_port, c.database, c.redis, c.demo) == (
        "127.0.0.1", 8080, 8081, "sqlite:///imdemo.db", "", True)
    assert (c.heartbeat, c.ack_timeout, c.ack_retries, c.poll_interval, c.send_rate) == (30, 5, 2, 3, 20)
    assert c.register_rate == 10


def test_each_flag_has_an_environment_variable_and_flags_win():
    env = {"IMDEMO_ACK_TIMEOUT": "0.25", "IMDEMO_PORT": "9000", "IMDEMO_REDIS_URL": "redis://r/0",
           "IMDEMO_DATABASE_URL": "postgresql://p/db", "IMDEMO_NO_DEMO": "1", "IMDEMO_SEND_RATE": "0"}
    c = Config.from_args(["--port", "9100"], env)
    assert (c.ack_timeout, c.port, c.websocket_port, c.redis, c.database, c.demo, c.send_rate) == (
        0.25, 9100, 9101, "redis://r/0", "postgresql://p/db", False, 0)
    assert Config.from_args(["--register-rate", "0"], {"IMDEMO_REGISTER_RATE": "3"}).register_rate == 0
    assert Config.from_args([], {"IMDEMO_REGISTER_RATE": "3"}).register_rate == 3


def test_config_endpoint_tells_pages_where_the_websocket_is(make_config):
    import webtest

    from imdemo.app import create_app
    for overrides, expected in [({"port": 9000}, "ws://localhost:9001/"),
                                ({"public_ws_url": "wss://chat.example/ws"}, "wss://chat.example/ws")]:
        app = create_app(make_config(**overrides))
        try:
            body = webtest.TestApp(app.wsgi, extra_environ={"HTTP_HOST": "localhost:9000"}).get("/api/config").json
        finally:
            app.close()
        assert body["ws_url"] == expected
        assert set(body) == {"ws_url", "heartbeat", "ack_timeout", "ack_retries", "poll_interval", "demo_accounts",
                             "inspector", "max_upload_mb", "recall_window", "typing_most_members"}
        assert body["typing_most_members"] == 100  # the server relays typing in groups up to this size
        assert body["demo_accounts"] is False and body["inspector"] is False


def test_lab_flag_shortens_the_timers_and_explicit_flags_still_win():
    c = Config.from_args(["--lab"], {"IMDEMO_HEARTBEAT": "60"})
    assert (c.lab, c.heartbeat, c.ack_timeout, c.ack_retries) == (True, 5, 2, 2)
    c = Config.from_args(["--lab", "--heartbeat", "8", "--ack-retries", "3"], {})
    assert (c.heartbeat, c.ack_timeout, c.ack_retries) == (8, 2, 3)
    c = Config.from_args([], {"IMDEMO_LAB": "1"})
    assert (c.lab, c.heartbeat) == (True, 5)
    assert Config.from_args([], {}).lab is False


def test_every_flag_of_run_py_says_what_it_does_its_default_and_its_variable():
    """`python run.py --help` alone tells a newcomer what each flag does, what it is when absent and which
    environment variable sets it; that variable really does."""
    import re

    from imdemo.config import parser
    flags = [a for a in parser()._actions if a.dest != "help"]
    assert len(flags) > 20  # every flag was found
    for action in flags:
        flag = action.option_strings[0]
        assert action.help and re.search(r"\w{3,}.*\. Default: .+\. Environment: IMDEMO_", action.help), flag
        name, _, value = re.search(r"Environment: (IMDEMO_[A-Z_]+(=1)?)$", action.help)[1].partition("=")
        value = value or {int: "7", float: "7"}.get(action.type, "x")
        by_variable = getattr(Config.from_env({name: value}), action.dest)
        by_flag = getattr(Config.from_args([flag] if action.nargs == 0 else [flag, value], {}), action.dest)
        assert by_variable == by_flag != getattr(Config(), action.dest), (flag, name)


def test_the_readme_flag_table_has_every_flag_of_run_py_with_its_variable():
    """The README's table under "Run it" and `python run.py --help` list the same flags and variables."""
    import re
    from pathlib import Path

    from imdemo.config import parser
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    run_it = readme.split("\n## Run it\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(--[a-z-]+)[^`]*` \| `(IMDEMO_[A-Z_]+(?:=1)?)` \| [^|]+ \| [^|]+ \|$", run_it, flags=re.M)
    helped = {a.option_strings[0]: re.search(r"Environment: (\S+)$", a.help)[1]
              for a in parser()._actions if a.dest != "help"}
    assert dict(rows) == helped
    assert len(rows) == len(helped)  # each once
