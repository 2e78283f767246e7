"""Bench helper: a crowd built in the database before the server starts (the storm's members, the groups
figure's 10,000-member groups), in seconds instead of a scrypt per user.

Everything is written by imdemo's own code in this process, as `python -m imdemo.seed` does: the schema as the
server creates it, the users in one transaction with one password hash for all (UserStore.create_many), a live
session for each (inserted with the token's hash, so nobody logs in while anything is measured), then each group
through GroupService.create, by write or by read diffusion as asked. The in-process store this app uses is
thrown away with it: the server recounts every counter from the database when it starts (store/reconcile.py).
A group of 10,000 cannot be made in one request (a body is at most 16 KiB): that is why groups are made here.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from .clients import PASSWORD

DAY_MS = 86_400_000


@dataclass(frozen=True)
class GroupPlan:
    """A group to make: its name, how many members (its owner, the user at first, included: users first to
    first + members - 1) and its storage."""

    name: str
    members: int
    large: bool  # read diffusion (SPEC 15) when true; write diffusion otherwise, whatever the size
    first: int = 0


def build(url: str, users: int, groups: tuple[GroupPlan, ...] = (), prefix: str = "crowd") -> tuple[list, list]:
    """Create `users` users, each with a live session, and `groups` (each of the first N users) in the database
    at url; return ([(uid, token)], [gid of each group])."""
    from imdemo.app import create_app
    from imdemo.config import Config
    from imdemo.services.auth import token_hash
    from imdemo.services.passwords import hash_password
    from imdemo.store.database import execute_many, write_transaction

    most = max([users, *(g.members for g in groups)])
    config = Config(database=url, demo=False, inspect=False, unread_merge=0, max_group_members=most,
                    large_group_at=most)  # a group made large only when asked
    app = create_app(config)  # on an empty database: nothing to recount
    try:
        names = [(f"{prefix}_{i:05d}", f"member {i}") for i in range(users)]
        uids = app.services.groups.users.create_many(names, hash_password(PASSWORD))  # one scrypt for everyone
        people = [(uid, secrets.token_urlsafe(32)) for uid in uids]
        now, db = int(time.time() * 1000), app.db
        with write_transaction(db):
            marks = ", ".join([db.param] * 4)
            execute_many(db, f"INSERT INTO im_session (token_hash, uid, created_at, expires_at) VALUES ({marks})",
                         [(token_hash(token), uid, now, now + DAY_MS) for uid, token in people])
        gids = [app.services.groups.create(uids[g.first], g.name, uids[g.first + 1:g.first + g.members],
                                           large=g.large)["gid"] for g in groups]
    finally:
        app.close()
    return people, gids
