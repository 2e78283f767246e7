"""Run imdemo (run.main) with every SQL statement Peewee executes logged, one line each, to a file.

    python bench/serve_traced.py LOG_PATH [run.py flags...]

Peewee logs each statement it executes on the "peewee" logger at DEBUG; only that logger's own records
are written (not "peewee.pool"), so the file's line count is the number of statements.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class OnlyStatements(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == "peewee"


def main(argv: list[str]) -> int:
    handler = logging.FileHandler(argv[0], mode="w", encoding="utf-8")
    handler.addFilter(OnlyStatements())
    handler.setFormatter(logging.Formatter("%(created).6f %(threadName)s %(message)s"))
    peewee_log = logging.getLogger("peewee")
    peewee_log.setLevel(logging.DEBUG)
    peewee_log.addHandler(handler)
    peewee_log.propagate = False  # the server's own console stays as users see it
    sys.path.insert(0, str(ROOT))
    import run  # the repository's run.py

    return run.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
