"""`python run.py`: starts on the embedded default, seeds the demo, stops cleanly on Ctrl-C."""
import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import Http, free_port, wait_for

RUN = str(Path(__file__).resolve().parent.parent / "run.py")


def _start(cwd, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMDEMO_")}
    return subprocess.Popen([sys.executable, RUN, *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_healthy(http):
    def up():
        try:
            return http.call("GET", "/healthz", timeout=1)[0] == 200
        except OSError:
            return False
    wait_for(up, timeout=20, interval=0.1, message="the server to answer")


def test_run_py_serves_the_demo_in_the_current_folder_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    process = _start(tmp_path, "--port", str(port), "--ws-port", str(free_port()))
    try:
        http = Http(f"http://127.0.0.1:{port}")
        _wait_healthy(http)
        uid, token = http.login("zhangsan", "1234")
        assert uid == 1000
        contacts = http.ok("GET", "/api/contacts", token=token)["contacts"]
        assert contacts[0]["user"]["nickname"] == "李四"
        assert (tmp_path / "imdemo.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert f"http://127.0.0.1:{port}/" in out and "zhangsan" in out and "1234" in out


def test_lab_flag_prints_the_short_timers_and_serves_them(tmp_path):
    port = free_port()
    process = _start(tmp_path, "--lab", "--no-demo", "--port", str(port), "--ws-port", str(free_port()))
    try:
        http = Http(f"http://127.0.0.1:{port}")
        _wait_healthy(http)
        config = http.ok("GET", "/api/config")
        assert (config["heartbeat"], config["ack_timeout"], config["ack_retries"]) == (5, 2, 2)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "lab timers: heartbeat 5 s, ACK timeout 2 s, 2 retries" in out


def test_reconcile_flag_rebuilds_and_exits(tmp_path):
    process = _start(tmp_path, "--reconcile", "--no-demo")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "rebuilt the unread counters of 0 users" in out


def test_unusable_database_url_prints_one_clear_line(tmp_path):
    process = _start(tmp_path, "--database", "mongodb://nowhere/x")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "Traceback" not in err and "cannot start" in err and "sqlite" in err


@pytest.mark.parametrize("side, flag", [("HTTP", "--port"), ("the WebSocket", "--ws-port")])
def test_a_port_in_use_is_named_with_the_flag_that_picks_another(tmp_path, side, flag):
    port, other = free_port(), free_port()
    ports = {"--port": port, "--ws-port": other} if flag == "--port" else {"--port": other, "--ws-port": port}
    with socket.socket() as taken:  # what a second `python run.py` finds: the first one still running
        taken.bind(("127.0.0.1", port))
        taken.listen()
        process = _start(tmp_path, "--no-demo", *(str(a) for pair in ports.items() for a in pair))
        out, err = process.communicate(timeout=30)
    assert process.returncode == 2, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    in_use = f"[Errno {errno.EADDRINUSE}] {os.strerror(errno.EADDRINUSE)}"  # Linux: [Errno 98] Address already in use
    assert last.startswith(f"imdemo: cannot listen for {side} on 127.0.0.1:{port}: {in_use}.")
    assert f"with {flag} N" in last
    assert ("--ws-port" in last) == (flag == "--ws-port")


def test_only_loopback_hosts_are_spared_the_demo_password_warning():
    import importlib.util
    spec = importlib.util.spec_from_file_location("run", RUN)
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    assert all(run.is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))
    assert not any(run.is_loopback(h) for h in ("0.0.0.0", "192.168.1.4", "::", "example.org"))


def test_demo_password_works_only_where_the_demo_was_seeded(make_config, tmp_path):
    from imdemo.app import create_app
    app = create_app(make_config(demo=True))
    try:
        assert app.services.auth.demo_password_works()
    finally:
        app.close()
    bare = create_app(make_config(demo=False, database=f"sqlite:///{tmp_path / 'bare.db'}"))
    try:
        assert not bare.services.auth.demo_password_works()
    finally:
        bare.close()


def _cpus_of_every_thread(pid: int) -> set[frozenset[int]]:
    """The CPUs each thread of a process may run on, as a set of distinct sets."""
    return {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")}


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two CPUs or more")
@pytest.mark.parametrize("cpu", ["auto", "last", "all"])
def test_the_server_and_all_its_threads_run_on_the_cpu_it_is_given(tmp_path, cpu):
    allowed = frozenset(os.sched_getaffinity(0))
    flag = str(max(allowed)) if cpu == "last" else cpu
    port = free_port()
    process = _start(tmp_path, "--port", str(port), "--ws-port", str(free_port()), "--cpu", flag)
    try:
        _wait_healthy(Http(f"http://127.0.0.1:{port}"))
        cpus = _cpus_of_every_thread(process.pid)
        if cpu == "all":
            assert cpus == {allowed}
        else:
            assert len(cpus) == 1 and len(next(iter(cpus))) == 1 and next(iter(cpus)) <= allowed
        if cpu == "last":
            assert cpus == {frozenset({max(allowed)})}
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=20)
    assert ("on CPU" in out) == (cpu != "all")
