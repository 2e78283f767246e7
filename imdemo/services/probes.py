"""Services layer: the loop probe's two accounts (lecture 19; python -m imdemo.probe). They are system accounts,
numbered below the course's first uid (1000), so they never show in anyone's list of users; their names are
reserved (nobody registers them); their password is the server's --probe-password, set again at each start
when it changed, so an operator rotates it by restarting with the new one."""
from __future__ import annotations

import logging

from ..store.errors import DuplicateUsername
from ..store.users import FIRST_UID, UserStore
from .passwords import check_password, hash_password

log = logging.getLogger(__name__)
PROBE_USERS = [(998, "probe_a", "probe A"), (999, "probe_b", "probe B")]  # the sender, then the receiver
PROBE_NAMES = frozenset(name for _, name, _ in PROBE_USERS)


def is_listed(uid: int) -> bool:
    """Whether a user shows in lists of users: everyone but the system accounts below the course's uids."""
    return uid >= FIRST_UID


def ensure_probe_accounts(users: UserStore, password: str, password_cost: int) -> None:
    """Make the probe's accounts if missing; give them password if they have another."""
    for uid, username, nickname in PROBE_USERS:
        row = users.by_username(username)
        if row is None:
            try:
                users.create(username, nickname, hash_password(password, password_cost), uid=uid)
            except DuplicateUsername:  # another process made it at the same moment
                pass
        elif row.uid != uid:  # registered before the names were reserved: not ours to take over
            log.warning("the probe's username %s belongs to user %s; the probe cannot use it", username, row.uid)
        elif not check_password(password, row.password_hash):
            users.set_password(uid, hash_password(password, password_cost))
