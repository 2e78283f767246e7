"""Services layer: run a housekeeping job every so many seconds, in a daemon thread, until stopped."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Call job every `seconds` (first after one period) until stop(); a failure is logged and retried."""

    def __init__(self, seconds: float, job: Callable[[], object], name: str):
        self.seconds, self.job, self.name = seconds, job, name
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"imdemo-{name}", daemon=True)

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped.wait(self.seconds):
            try:
                self.job()
            except Exception:  # the store is away for a moment: the next period tries again
                log.warning("%s failed; trying again in %g s", self.name, self.seconds, exc_info=True)
