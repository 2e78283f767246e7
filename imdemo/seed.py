"""Seed a crowd: `python -m imdemo.seed --users 10000 --group 万人群` makes that many users (u00001, ...;
password 1234, as the demo accounts) and one large group of as many members, zhangsan its owner, so a learner
can try a 万人群 (SPEC section 15). Reads the same --database, --redis and IMDEMO_* settings as run.py; the
server may run meanwhile or be started after (it rebuilds the counters from the database)."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from .app import create_app
from .config import Config
from .services.demo import seed_crowd


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m imdemo.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, metavar="N", help="how many users (default 10000)")
    parser.add_argument("--group", default="万人群", metavar="NAME", help="the group's name (default 万人群)")
    parser.add_argument("--database", metavar="URL", help="as run.py's (default sqlite:///imdemo.db)")
    parser.add_argument("--redis", metavar="URL", help="as run.py's (default: the in-process store)")
    parser.add_argument("--redis-prefix", metavar="PREFIX")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    given = {k: v for k, v in vars(args).items() if v is not None and k in ("database", "redis", "redis_prefix")}
    config = Config.from_env(os.environ, **given, inspect=False)
    if not 4 <= args.users <= config.max_group_members:
        parser.error(f"--users must be between 4 and --max-group-members ({config.max_group_members})")
    started = time.monotonic()
    try:
        app = create_app(config)
    except Exception as e:  # a missing driver or an unreachable server: one clear line, no traceback
        print(f"imdemo.seed: cannot start: {e}", file=sys.stderr)
        return 2
    try:
        uids, group = seed_crowd(app.services.groups.users, app.services.groups, args.users, args.group,
                                 config.password_cost)
    finally:
        app.close()
    print(f"imdemo.seed: {len(uids)} users u{1:05d}..u{args.users:05d} (password 1234) and the group "
          f"{group['name']} (gid {group['gid']}, {group['member_count']} members, stored by read diffusion) in "
          f"{time.monotonic() - started:.1f} s; log in as zhangsan or any of them")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
