"""Services layer: send a message, read a conversation's history."""
from __future__ import annotations

from collections.abc import Callable

from ..store.attempts import Attempts
from ..store.errors import UnknownUser
from ..store.message_rows import Draft, Stored
from ..store.messages import MessageStore
from ..store.notices import Notifier
from . import checks
from .errors import BadInput, NotFound, RateLimited
from .group_commit import GroupCommit
from .unread import Reconciler
from .views import message_event, message_view


class MessageService:
    """The way of a message: rules and limits here, one transaction in the store, then a notice.

    Concurrent sends are committed together (group commit): one transaction, one unread script and one
    PUBLISH for all of them, each sender still getting its own answer.
    """

    def __init__(self, messages: MessageStore, notifier: Notifier, attempts: Attempts,
                 reconciler: Reconciler, *, send_rate: int, alone: Callable[[], bool] = lambda: False):
        self.messages, self.notifier, self.attempts = messages, notifier, attempts
        self.reconciler, self.send_rate = reconciler, send_rate
        self.group = GroupCommit(self._store_and_notify, alone=alone)

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
            stored = self.group.submit(Draft(sender, to, content, client_msg_id))
        except UnknownUser:
            raise NotFound(f"no user with uid {to}", "no_such_user") from None
        return message_view(stored.message), stored.created

    def _limit_rate(self, sender: int) -> None:
        if self.send_rate <= 0:
            return
        sent, left = self.attempts.count("send", str(sender), 1.0)
        if sent > self.send_rate:
            raise RateLimited(f"at most {self.send_rate} messages a second", left or 1.0, "too_many_messages")

    def _store_and_notify(self, drafts: list[Draft]) -> list:
        """Store a group of drafts in one transaction, then tell both users of each new message."""
        outcomes = self.messages.store_many(drafts)
        created = [o for o in outcomes if isinstance(o, Stored) and o.created]
        if created:
            self._notify(created)
        return outcomes

    def _notify(self, group: list[Stored]) -> None:
        """One notice per user of the group: the newest seq, the message events themselves (so a WebSocket
        pushes them without reading them back; anything it did not get in order it reads by seq), and an
        unread hint per message received (live only: a poller gets the message event, which is the +1)."""
        notices: dict[int, dict] = {}
        for stored in group:  # in commit order, so each user's events come in seq order
            m = stored.message
            for uid, seq in ((m.sender, stored.sender_seq), (m.recipient, stored.recipient_seq)):
                notice = notices.setdefault(uid, {"seq": 0, "events": []})
                notice["seq"] = seq
                notice["events"].append(message_event(seq, m))
            notices[m.recipient].setdefault("hints", []).append(
                {"type": "unread", "total": stored.recipient_total,
                 "conversation": {"uid": m.sender, "unread": stored.recipient_conversation}})
        self.notifier.publish_many(list(notices.items()), keep_hints=False)  # pollers count the message itself
        if not group[-1].counters_ready:
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
        if not page and not self.messages.user_exists(other):  # asked only when there is nothing to show
            raise NotFound(f"no user with uid {other}", "no_such_user")
        has_more = len(page) > limit
        if has_more:  # drop the one extra row that was read only to know more lies beyond
            page = page[:limit] if after is not None else page[1:]
        peer_read, peer_delivered = self.messages.peer_marks(uid, other)
        return {"messages": [message_view(m) for m in page], "has_more": has_more,
                "peer_read_mid": peer_read, "peer_delivered_mid": max(peer_delivered, peer_read)}
