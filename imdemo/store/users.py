"""Store layer: the im_user table."""
from __future__ import annotations

import time
from dataclasses import dataclass

import peewee

from .database import write_transaction
from .errors import DuplicateUsername, UnknownUser
from .models import declare_models
from .statements import holding, names_holding

FIRST_UID = 1000  # the course numbers its users from 1000


@dataclass(frozen=True)
class UserRow:
    uid: int
    username: str
    nickname: str
    avatar: str
    password_hash: str
    seq: int


class UserStore:
    """Users: create, find, list."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.User = declare_models(db).User

    def _row(self, user) -> UserRow:
        return UserRow(user.uid, user.username, user.nickname, user.avatar, user.password_hash, user.seq)

    def create(self, username: str, nickname: str, password_hash: str, uid: int | None = None) -> UserRow:
        """Insert a user with the next free uid (or the one given); raise DuplicateUsername if taken."""
        for _ in range(5):  # two processes may pick the same next uid at once: try the next one
            try:
                with write_transaction(self.db):
                    if self.User.select().where(self.User.username == username).exists():
                        raise DuplicateUsername(username)
                    new_uid = uid or (self.User.select(peewee.fn.MAX(self.User.uid)).scalar() or FIRST_UID - 1) + 1
                    user = self.User.create(uid=new_uid, username=username, nickname=nickname,
                                            password_hash=password_hash, created_at=int(time.time() * 1000))
                    return self._row(user)
            except peewee.IntegrityError:
                if self.User.select().where(self.User.username == username).exists():
                    raise DuplicateUsername(username) from None
        raise peewee.OperationalError("could not allocate a uid")

    def create_many(self, users: list[tuple[str, str]], password_hash: str) -> list[int]:
        """Insert users (username, nickname), all with one password hash, in one transaction, each with the
        next free uid; those whose username is taken are left as they are. Return the uids of all of them."""
        now = int(time.time() * 1000)
        with write_transaction(self.db):
            taken = {u for (u,) in self.User.select(self.User.username).where(
                self.User.username.in_([name for name, _ in users])).tuples()}
            first = (self.User.select(peewee.fn.MAX(self.User.uid)).scalar() or FIRST_UID - 1) + 1
            new = [(name, nick) for name, nick in users if name not in taken]
            rows = [(first + i, name, nick, password_hash, "", 0, now) for i, (name, nick) in enumerate(new)]
            marks = ", ".join([self.db.param] * 7)
            self.db.execute_many(f"INSERT INTO im_user (uid, username, nickname, password_hash, avatar, seq,"
                                 f" created_at) VALUES ({marks})", rows)
            by_name = dict(self.User.select(self.User.username, self.User.uid).where(
                self.User.username.in_([name for name, _ in users])).tuples())
        return [by_name[name] for name, _ in users]

    def set_password(self, uid: int, password_hash: str) -> None:
        self.User.update(password_hash=password_hash).where(self.User.uid == uid).execute()

    def by_username(self, username: str) -> UserRow | None:
        user = self.User.get_or_none(self.User.username == username)
        return self._row(user) if user else None

    def by_uid(self, uid: int) -> UserRow:
        user = self.User.get_or_none(self.User.uid == uid)
        if user is None:
            raise UnknownUser(uid)
        return self._row(user)

    def by_uids(self, uids) -> dict[int, UserRow]:
        return {u.uid: self._row(u) for u in self.User.select().where(self.User.uid.in_(list(uids)))}

    def everyone(self, limit: int = 1000, from_uid: int = 0) -> list[UserRow]:
        """Up to limit users from uid from_uid on, by uid."""
        return [self._row(u) for u in self.User.select().where(self.User.uid >= from_uid).order_by(self.User.uid)
                .limit(limit)]

    def holding(self, text: str, limit: int, from_uid: int = 0) -> list[UserRow]:
        """Up to limit users from uid from_uid on whose username or nickname holds text (any case), by uid."""
        sql = f"SELECT * FROM im_user WHERE uid >= ? AND {names_holding('im_user')} ORDER BY uid LIMIT ?"
        query = self.User.raw(sql.replace("?", self.db.param), from_uid, holding(text), holding(text), limit)
        return [self._row(u) for u in query]

    def all_uids(self) -> list[int]:
        return [u for (u,) in self.User.select(self.User.uid).order_by(self.User.uid).tuples()]

    def count(self, from_uid: int = 0) -> int:
        return self.User.select().where(self.User.uid >= from_uid).count()

    def last_seq(self, uid: int) -> int:
        """Return the newest seq of uid's timeline (0 for an unknown user)."""
        row = self.User.select(self.User.seq).where(self.User.uid == uid).tuples().first()
        return int(row[0]) if row else 0
