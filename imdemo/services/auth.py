"""Services layer: register, log in and out, and resolve a token to the caller's uid."""
from __future__ import annotations

import hashlib
import logging
import secrets

from ..store.attempts import Attempts
from ..store.errors import DuplicateUsername
from ..store.notices import Notifier
from ..store.sessions import SessionStore
from ..store.users import FIRST_UID, UserStore
from . import checks
from .demo import DEMO_PASSWORD, DEMO_USERS
from .errors import Conflict, RateLimited, Unauthorized
from .passwords import DUMMY_HASH, check_password, hash_password
from .probes import PROBE_NAMES, is_listed
from .views import user_view

EVERYONE = 1000  # the most users a list of them holds
log = logging.getLogger(__name__)
ADDRESS_FACTOR = 4  # an address may fail this many times more often than one username
REGISTER_WINDOW = 60.0  # seconds: register_rate counts new accounts per address in windows this long


def token_hash(token: str) -> str:
    """Hash a token for storage: a stolen database holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    """Accounts and sessions."""

    def __init__(self, users: UserStore, sessions: SessionStore, attempts: Attempts, notifier: Notifier, *,
                 session_ttl: float, login_attempts: int, login_window: float, password_cost: int,
                 register_rate: int = 0):
        self.users, self.sessions, self.attempts, self.notifier = users, sessions, attempts, notifier
        self.session_ttl, self.password_cost, self.register_rate = session_ttl, password_cost, register_rate
        self.login_attempts, self.login_window = login_attempts, login_window
        notifier.watch_all("logout", self._on_notice)

    def _on_notice(self, uid: int, notice: dict) -> None:
        """Another process ended a session (or notices were lost): stop trusting this process's copy."""
        if "logout" in notice:
            self.sessions.forget(notice["logout"])
        elif notice.get("type") == "wake":
            self.sessions.forget()

    def register(self, username, password, nickname=None, address: str | None = None) -> dict:
        """Create an account and return the user. From an address (a request), at most register_rate a
        minute: each hashes a password with scrypt (16 MiB, tens of ms), so a flood would be costly."""
        username = checks.username(username)
        password = checks.text(password, "password", 4, 128, strip=False)
        nickname = username if nickname is None else checks.text(nickname, "nickname", 1, 64)
        self._limit_registrations(address)  # once the input is good: bad input changes nothing, not even the count
        try:
            if username in PROBE_NAMES:  # reserved for the loop probe (probes.py), whether made yet or not
                raise DuplicateUsername(username)
            user = self.users.create(username, nickname, hash_password(password, self.password_cost))
        except DuplicateUsername:
            raise Conflict(f"the username {username!r} is taken", "username_taken") from None
        return user_view(user)

    def _limit_registrations(self, address: str | None) -> None:
        if address is None or self.register_rate <= 0:  # None: not a request (the demo seed, a benchmark)
            return
        made, left = self.attempts.count("register_addr", address, REGISTER_WINDOW)
        if made > self.register_rate:
            raise RateLimited(f"at most {self.register_rate} new accounts a minute from one address", left,
                              "too_many_registrations")

    def login(self, username, password, address: str) -> dict:
        """Check the password and open a session; return {token, user}. Failures are throttled."""
        if not isinstance(username, str) or not isinstance(password, str):
            checks.text(username, "username", 1, 32)
            checks.text(password, "password", 1, 128, strip=False)
        checks.encodable(username, "username")
        checks.encodable(password, "password")
        self._refuse_if_throttled(username, address)
        user = self.users.by_username(username) if checks.USERNAME.fullmatch(username) else None
        if not check_password(password, user.password_hash if user else DUMMY_HASH) or user is None:
            self.attempts.count("login_user", username[:64], self.login_window)
            self.attempts.count("login_addr", address, self.login_window)
            raise Unauthorized("wrong username or password", "bad_credentials")
        self.attempts.clear("login_user", username)
        token = secrets.token_urlsafe(32)
        self.sessions.create(token_hash(token), user.uid, self.session_ttl)
        return {"token": token, "user": user_view(user)}

    def _refuse_if_throttled(self, username: str, address: str) -> None:
        for kind, who, limit in (("login_user", username[:64], self.login_attempts),
                                 ("login_addr", address, self.login_attempts * ADDRESS_FACTOR)):
            failures, left = self.attempts.peek(kind, who)
            if failures >= limit:
                raise RateLimited("too many failed logins; try again later", left, "too_many_attempts")

    def authenticate(self, token: str | None) -> int:
        """Return the uid the token belongs to, or raise Unauthorized."""
        if not token or len(token) > 200:
            raise Unauthorized("log in first: send Authorization: Bearer <token>", "unauthorized")
        uid = self.sessions.uid_of(token_hash(token))
        if uid is None:
            raise Unauthorized("the session has ended or the token is wrong; log in again", "invalid_token")
        return uid

    def logout(self, uid: int, token: str) -> None:
        """End the session of token in every process, and close the live connections opened with it."""
        self.sessions.delete(token_hash(token))
        self.notifier.publish(uid, {"logout": token_hash(token)})

    def purge_expired_sessions(self) -> int:
        """Delete expired sessions, so the table holds live ones only (uid_of deletes only those it meets)."""
        purged = self.sessions.purge_expired()
        if purged:
            log.info("deleted %d expired sessions", purged)
        return purged

    def demo_password_works(self) -> bool:
        """Tell whether any demo account still has the published demo password."""
        users = (self.users.by_username(name) for _, name, _ in DEMO_USERS)
        return any(u is not None and check_password(DEMO_PASSWORD, u.password_hash) for u in users)

    def me(self, uid: int) -> dict:
        return user_view(self.users.by_uid(uid))

    def everyone_but(self, uid: int, text=None, limit=None) -> dict:
        """All users except uid and the system accounts (the probe's): the course's "all contacts", the first
        limit of them by uid (1,000 unless given), and how many there are (total); with text, only those whose
        username or nickname holds it (any case; 50 unless given), wherever they are in that order."""
        total = self.users.count(FIRST_UID) - (1 if is_listed(uid) else 0)
        default = EVERYONE if text is None else 50
        limit = checks.integer(default if limit is None else limit, "limit", 1, EVERYONE)
        if text is None:
            found = self.users.everyone(limit + 1, FIRST_UID)
        else:
            found = self.users.holding(checks.text(text, "q", 1, 64), limit + 1, FIRST_UID)
        return {"users": [user_view(u) for u in found if u.uid != uid][:limit], "total": total}
