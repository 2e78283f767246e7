"""Services layer: send a message, read a conversation's history."""
from __future__ import annotations

from ..store.attempts import Attempts
from ..store.errors import UnknownUser
from ..store.messages import MessageStore
from ..store.notices import Notifier
from . import checks
from .errors import BadInput, NotFound, RateLimited
from .unread import Reconciler
from .views import message_view


class MessageService:
    """The way of a message: rules and limits here, one transaction in the store, then a notice."""

    def __init__(self, messages: MessageStore, notifier: Notifier, attempts: Attempts,
                 reconciler: Reconciler, *, send_rate: int):
        self.messages, self.notifier, self.attempts = messages, notifier, attempts
        self.reconciler, self.send_rate = reconciler, send_rate

    def send_message(self, sender: int, to, content, client_msg_id=None) -> tuple[dict, bool]:
        """Store a message and notify both users; return (message, created). A repeated client_msg_id
        returns the first message and stores nothing."""
        to = checks.integer(to, "to", 1)
        content = checks.content(content)
        client_msg_id = checks.client_msg_id(client_msg_id)
        if to == sender:
            raise BadInput("you cannot send a message to yourself", "self_message")
        self._limit_rate(sender)
        try:
            stored = self.messages.store(sender, to, content, client_msg_id)
        except UnknownUser:
            raise NotFound(f"no user with uid {to}", "no_such_user") from None
        if stored.created:
            self._notify(stored)
        return message_view(stored.message), stored.created

    def _limit_rate(self, sender: int) -> None:
        if self.send_rate <= 0:
            return
        sent, left = self.attempts.count("send", str(sender), 1.0)
        if sent > self.send_rate:
            raise RateLimited(f"at most {self.send_rate} messages a second", left or 1.0, "too_many_messages")

    def _notify(self, stored) -> None:
        m = stored.message
        unread = {"type": "unread", "total": stored.recipient_total,
                  "conversation": {"uid": m.sender, "unread": stored.recipient_conversation}}
        self.notifier.publish_many([(m.sender, {"seq": stored.sender_seq}),
                                    (m.recipient, {"seq": stored.recipient_seq, "hints": [unread]})])
        if not stored.counters_ready:
            self.reconciler.store_was_lost()

    def history(self, uid: int, other, before=None, after=None, limit=30) -> dict:
        """Return a page of uid's conversation with other, ascending, and whether more lies beyond it."""
        other = checks.integer(other, "uid", 1)
        limit = checks.integer(limit, "limit", 1, 100)
        if before is not None and after is not None:
            raise BadInput("give before or after, not both", "bad_cursor")
        before = None if before is None else checks.integer(before, "before", 0)
        after = None if after is None else checks.integer(after, "after", 0)
        page = self.messages.history(uid, other, before, after, limit + 1)
        has_more = len(page) > limit
        if has_more:  # drop the one extra row that was read only to know more lies beyond
            page = page[:limit] if after is not None else page[1:]
        return {"messages": [message_view(m) for m in page], "has_more": has_more,
                "peer_read_mid": self.messages.peer_read_mid(uid, other)}
