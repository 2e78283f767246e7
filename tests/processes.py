"""Test helper: imdemo processes started with `python run.py`, waited for, and stopped."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from .helpers import Http, free_port, wait_for

RUN = str(Path(__file__).resolve().parent.parent / "run.py")


class Process:
    """One `python run.py` on free ports; stop() sends Ctrl-C and waits.

    log_path: write its log (stderr) to that file, which log() reads at any time, instead of a pipe that
    nobody reads until stop() (a busy process would block once the pipe's 64 KiB are full)."""

    def __init__(self, *args: str, cwd=None, env_extra: dict | None = None, log_path=None):
        self.port, self.ws_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMDEMO_")}
        env.update(env_extra or {})
        self.log_path = log_path
        log = open(log_path, "w") if log_path else None  # the child keeps its own copy of the descriptor
        try:
            self.popen = subprocess.Popen(
                [sys.executable, RUN, "--port", str(self.port), "--ws-port", str(self.ws_port), *args],
                cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=log or subprocess.PIPE)
        finally:
            if log is not None:
                log.close()
        self.http = Http(f"http://127.0.0.1:{self.port}")
        self.ws_url = f"ws://127.0.0.1:{self.ws_port}/"

    def wait_ready(self, timeout: float = 30) -> Process:
        def up():
            if self.popen.poll() is not None:
                raise AssertionError(f"run.py exited: {self.popen.communicate()[1] or self.log()}")
            try:
                return self.http.call("GET", "/healthz", timeout=1)[0] == 200
            except OSError:
                return False
        wait_for(up, timeout=timeout, interval=0.1, message="run.py to answer /healthz")
        return self

    def stop(self) -> tuple[int, str, str]:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
        try:
            out, err = self.popen.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            out, err = self.popen.communicate()
        return self.popen.returncode, out, err

    def log(self) -> str:
        """What the process has logged so far (with a log_path)."""
        with open(self.log_path) as f:
            return f.read()

    def kill(self) -> None:
        self.popen.kill()
        self.popen.communicate()
