"""Services layer: the course's demo data, seeded on the first start of an empty database."""
from __future__ import annotations

from ..store.conversation import Conversation
from ..store.errors import DuplicateUsername
from ..store.users import UserStore
from .messages import MessageService
from .passwords import hash_password

DEMO_USERS = [(1000, "zhangsan", "张三"), (1001, "lisi", "李四"), (1002, "wangwu", "王五")]
DEMO_PASSWORD = "1234"
DEMO_MESSAGES = [
    (1000, 1001, "Hi 李四, this is imdemo: a small IM system you can read end to end."),
    (1001, 1000, "Hi 张三! Send me a message and watch my unread badge."),
    (1000, 1001, "Open a second tab and log in as lisi (password 1234) to reply."),
]


def seed_demo(users: UserStore, messages: MessageService, password_cost: int) -> bool:
    """Create the demo users and a few messages if the database has no users; tell whether it did. Each
    sender has read what came before their message, as someone replying has: what stays unread is only what
    its recipient has really not seen (zhangsan none, lisi the last message)."""
    if users.count() > 0:
        return False
    try:
        for uid, username, nickname in DEMO_USERS:
            users.create(username, nickname, hash_password(DEMO_PASSWORD, password_cost), uid=uid)
    except DuplicateUsername:  # another process started at the same moment and seeds instead
        return False
    for sender, to, text in DEMO_MESSAGES:
        conversation = Conversation.direct(to)
        messages.mark_read(sender, conversation)  # replying: what came before has been read
        messages.send(sender, conversation, text)
    return True


def seed_crowd(users: UserStore, groups, count: int, group_name: str, password_cost: int) -> tuple[list[int], dict]:
    """Make count users (u00001, u00002, ...; password 1234, one hash for all: seconds, not scrypt per user) and
    one group of count members, made large (read diffusion): the demo accounts and the new users but the last
    three, who stay outside it to be added. Return the new users' uids and the group."""
    width = max(5, len(str(count)))
    uids = users.create_many([(f"u{i:0{width}d}", f"用户{i}") for i in range(1, count + 1)],
                             hash_password(DEMO_PASSWORD, password_cost))
    owner, *others = (uid for uid, _, _ in DEMO_USERS)
    members = [*others, *uids[:max(0, count - 3)]][:count - 1]
    return uids, groups.create(owner, group_name, members, large=True)
