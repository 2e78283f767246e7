"""Services layer: send a message, read a conversation's history."""
from __future__ import annotations

from collections.abc import Callable

from ..store.attempts import Attempts
from ..store.errors import NotAMember, UnknownGroup, UnknownUser
from ..store.message_rows import Draft, Message, Stored, group_peer
from ..store.messages import MessageStore
from ..store.notices import Notifier
from . import checks
from .errors import BadInput, Forbidden, NotFound, RateLimited
from .group_commit import GroupCommit
from .merge import UnreadMerger
from .unread import Reconciler
from .views import message_view


class MessageService:
    """The way of a message: rules and limits here, one transaction in the store, then a notice.

    Concurrent sends are committed together (group commit): one transaction, one unread script and one
    PUBLISH for all of them, each sender still getting its own answer.
    """

    def __init__(self, messages: MessageStore, notifier: Notifier, attempts: Attempts,
                 reconciler: Reconciler, *, send_rate: int, alone: Callable[[], bool] = lambda: False,
                 merger: UnreadMerger | None = None):
        self.messages, self.notifier, self.attempts = messages, notifier, attempts
        self.reconciler, self.send_rate = reconciler, send_rate
        self.merger = merger  # counts group messages unread after their commit, merged (None: in the commit)
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

    def send_to_group(self, sender: int, gid, content, client_msg_id=None) -> tuple[dict, bool]:
        """Store a message in a group, one row in each current member's timeline, and notify them; return
        (message, created). The same client_msg_id again returns the first message and stores nothing."""
        gid = checks.integer(gid, "gid", 1)
        content = checks.content(content)
        client_msg_id = checks.client_msg_id(client_msg_id)
        self._limit_rate(sender)
        try:
            stored = self.group.submit(Draft(sender, group_peer(gid), content, client_msg_id))
        except (UnknownGroup, NotAMember) as e:
            raise group_error(gid, e) from None
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
            self.announce(created)
            if self.merger is not None:
                self.merger.add(created)
        return outcomes

    def announce(self, stored: list[Stored]) -> None:
        """Tell every user the new messages reached, in one PUBLISH: each one's newest seq and message events
        (so a WebSocket pushes them without reading them back; anything it did not get in order it reads by
        seq), each message's body once however many timelines it reached, and for a 1:1 message an unread
        hint for its recipient (live only: a poller gets the message event, which is the +1; a group's
        members count the message events too, so a group message costs no hint per member)."""
        if not stored:
            return
        bodies, notices, fanout = {}, {}, []
        for s in stored:  # in commit order, so each user's events come in seq order
            m, key = s.message, str(s.message.mid)
            bodies[key] = message_view(m)
            if m.gid is not None:  # a group's: its members and their seqs as two lists, not a notice each
                fanout.append((key, list(s.seqs), list(s.seqs.values())))
                continue
            for uid, seq in s.seqs.items():
                notice = notices.setdefault(uid, {"seq": 0, "events": []})
                notice["seq"] = seq
                notice["events"].append([seq, key])
            notices[m.recipient].setdefault("hints", []).append(
                {"type": "unread", "total": s.recipient_total,
                 "conversation": {"uid": m.sender, "unread": s.recipient_conversation}})
        self.notifier.publish_many(list(notices.items()), keep_hints=False, bodies=bodies, fanout=fanout)
        if not stored[-1].counters_ready:
            self.reconciler.store_was_lost()

    def history(self, uid: int, other, before=None, after=None, limit=30) -> dict:
        """Return a page of uid's conversation with other, ascending, and whether more lies beyond it."""
        other = checks.integer(other, "uid", 1)
        page, has_more = self.page(uid, other, before, after, limit)
        if not page and not self.messages.user_exists(other):  # asked only when there is nothing to show
            raise NotFound(f"no user with uid {other}", "no_such_user")
        peer_read, peer_delivered = self.messages.peer_marks(uid, other)
        return {"messages": [message_view(m) for m in page], "has_more": has_more,
                "peer_read_mid": peer_read, "peer_delivered_mid": max(peer_delivered, peer_read)}

    def page(self, uid: int, peer: int, before, after, limit) -> tuple[list[Message], bool]:
        """A page of one of uid's conversations (a uid, or -gid), ascending, and whether more lies beyond."""
        limit = checks.integer(limit, "limit", 1, 100)
        if before is not None and after is not None:
            raise BadInput("give before or after, not both", "bad_cursor")
        before = None if before is None else checks.integer(before, "before", 0)
        after = None if after is None else checks.integer(after, "after", 0)
        page = self.messages.history(uid, peer, before, after, limit + 1)
        has_more = len(page) > limit
        if has_more:  # drop the one extra row that was read only to know more lies beyond
            page = page[:limit] if after is not None else page[1:]
        return page, has_more


def group_error(gid: int, e: Exception) -> Exception:
    """The caller's error for a group it cannot use: 403 for a former member, 404 for anyone else (a group
    one never belonged to is not shown to exist)."""
    if isinstance(e, NotAMember) and e.former:
        return Forbidden(f"you are no longer a member of group {gid}", "not_a_member")
    return NotFound(f"no group {gid}", "no_such_group")
