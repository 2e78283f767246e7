"""Services layer: recall (撤回) and edit, signals in the stream (lecture 9). Each is a message of its own kind
about another message, through the one writer like any send: it takes a seq in every timeline its target
reached (so every device converges, and a resumed client replays it), is idempotent by client_msg_id, and is
never unread. Its rule is checked inside the commit on what the commit locked (store/signals.py), so two
recalls, or a recall and an edit, racing for one message resolve once:

- recall: the sender within --recall-window seconds, a group's owner any message at any time;
- edit: the sender within EDIT_WINDOW, to 1..1000 characters after trimming;
- neither on someone else's message (403 not_your_message), too late (403 too_late), a recalled one (409
  already_recalled), a system message (403 not_changeable), nor one the caller cannot see (404).
"""
from __future__ import annotations

from functools import partial

from ..store.attempts import Attempts
from ..store.conversation import Conversation
from ..store.message import EDIT, NEVER_UNREAD, RECALL, Draft, Stored, message_view
from ..store.signals import Check, Signals
from ..store.writer import MessageWriter
from . import checks
from .conversations import REFUSALS
from .errors import Conflict, Forbidden, NotFound, RateLimited

EDIT_WINDOW = 24 * 3600.0  # seconds after sending during which its sender may edit a message


class SignalService:
    """Recall and edit a message of a conversation."""

    def __init__(self, writer: MessageWriter, signals: Signals, attempts: Attempts, rules: dict, *,
                 recall_window: float, send_rate: int):
        self.writer, self.signals, self.attempts, self.rules = writer, signals, attempts, rules
        self.recall_window, self.send_rate = recall_window, send_rate

    def recall(self, uid: int, conversation: Conversation, mid, client_msg_id=None) -> dict:
        """Recall message mid: its content is erased on the server, every member's timeline gets the recall,
        and where it was unread it no longer counts. Return {message}: the message as it stands now."""
        mid = checks.integer(mid, "mid", 1)
        draft = Draft(uid, conversation, "", checks.client_msg_id(client_msg_id), kind=RECALL, target=mid,
                      rule=partial(may_recall, self.recall_window))
        return self._append(draft)

    def edit(self, uid: int, conversation: Conversation, mid, content, client_msg_id=None) -> dict:
        """Give message mid a new text; every member's timeline gets the edit. Return {message}: it, edited."""
        mid = checks.integer(mid, "mid", 1)
        draft = Draft(uid, conversation, checks.content(content), checks.client_msg_id(client_msg_id), kind=EDIT,
                      target=mid, rule=partial(may_edit, EDIT_WINDOW))
        return self._append(draft)

    def _append(self, draft: Draft) -> dict:
        """Hand the signal to the writer (it counts in the sender's send rate); answer with its target."""
        rules = self.rules[draft.conversation.kind]
        self._limit_rate(draft.sender)
        try:
            stored = self.writer.append(draft)
        except REFUSALS as e:
            raise rules.refused(draft.conversation, e) from None
        return {"message": message_view(self._target(stored, draft))}

    def _target(self, stored: Stored, draft: Draft):
        """The target as the signal left it; after a repeated client_msg_id, as it stands now (which must be the
        same signal: a client_msg_id of another message is a conflict)."""
        if stored.created:
            return stored.message.target
        first = stored.message
        if first.kind != draft.kind or first.target_mid != draft.target:
            raise Conflict("this client_msg_id was used for another message", "client_msg_id_taken")
        return self.signals.message(draft.target)

    def _limit_rate(self, sender: int) -> None:
        if self.send_rate <= 0:
            return
        sent, left = self.attempts.count("send", str(sender), 1.0)  # the same budget as sends
        if sent > self.send_rate:
            raise RateLimited(f"at most {self.send_rate} messages a second", left or 1.0, "too_many_messages")


def may_recall(window: float, check: Check) -> None:
    """The sender within window seconds; the conversation's owner (a group's) any message, any time."""
    target = _changeable(check)
    if check.actor == check.owner:
        return
    _own_and_in_time(check, target, window, "recall")


def may_edit(window: float, check: Check) -> None:
    """The sender within window seconds."""
    _own_and_in_time(check, _changeable(check), window, "edit")


def _changeable(check: Check):
    target = check.target
    if target is None:
        raise NotFound("no such message in this conversation", "no_such_message")
    if target.recalled_by is not None:
        raise Conflict("that message was recalled already", "already_recalled")
    if target.kind in NEVER_UNREAD:  # a group's membership change is a record, not someone's words
        raise Forbidden("a system message cannot be recalled or edited", "not_changeable")
    return target


def _own_and_in_time(check: Check, target, window: float, what: str) -> None:
    if target.sender != check.actor:
        raise Forbidden(f"you can only {what} your own messages", "not_your_message")
    if check.now_ms - target.created_ms >= window * 1000:  # within the window: a window of 0 allows none
        raise Forbidden(f"too late to {what} this message: {window:g} seconds have passed", "too_late")
