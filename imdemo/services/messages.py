"""Services layer: the way of a message, for every kind of conversation: send one, read a page of one, mark
one read. The rules that differ between a 1:1 chat and a group are the conversation's kind's
(conversations.py); storing is the one writer's (store/writer.py), which announces each commit itself.
"""
from __future__ import annotations

from ..store.attempts import Attempts
from ..store.conversation import Conversation
from ..store.message import Draft, message_view
from ..store.notices import Notifier
from ..store.reader import MessageReader
from ..store.unread import UnreadCounts
from ..store.writer import MessageWriter
from . import checks
from .conversations import REFUSALS
from .errors import BadInput, RateLimited
from .files import FileService, attached
from .mentions import mentioned


class MessageService:
    """Send, history and mark-read, one of each, whatever the conversation."""

    def __init__(self, writer: MessageWriter, reader: MessageReader, unread: UnreadCounts, notifier: Notifier,
                 attempts: Attempts, rules: dict, *, send_rate: int, files: FileService | None = None):
        self.writer, self.reader, self.unread, self.notifier = writer, reader, unread, notifier
        self.attempts, self.rules, self.send_rate, self.files = attempts, rules, send_rate, files

    def send(self, sender: int, conversation: Conversation, content, client_msg_id=None,
             attachment=None, mentions=None) -> tuple[dict, bool]:
        """Store a message in a conversation (in the timeline of everyone in it) and tell them; return (message,
        created). The same client_msg_id again returns the first message and stores nothing. With an attachment
        (a file id the sender may read: theirs, or one they see in a message) it is an image or file message,
        its content an optional caption. A group's message may mention members (mentions.py)."""
        content = checks.content(content) if attachment is None else checks.caption(content)
        client_msg_id = checks.client_msg_id(client_msg_id)
        media = {} if attachment is None else attached(self.files.readable(sender, attachment, "attachment"))
        rules = self.rules[conversation.kind]
        rules.may_send(sender, conversation)
        draft = Draft(sender, conversation, content, client_msg_id, **media,
                      **mentioned(rules, conversation, mentions))
        self._limit_rate(sender)
        try:
            stored = self.writer.append(draft)
        except REFUSALS as e:
            raise rules.refused(conversation, e) from None
        return message_view(stored.message), stored.created

    def _limit_rate(self, sender: int) -> None:
        if self.send_rate <= 0:
            return
        sent, left = self.attempts.count("send", str(sender), 1.0)
        if sent > self.send_rate:
            raise RateLimited(f"at most {self.send_rate} messages a second", left or 1.0, "too_many_messages")

    def history(self, uid: int, conversation: Conversation, before=None, after=None, limit=30) -> dict:
        """A page of the conversation as uid received it (ascending; a group from when they joined, a former
        member what they had), whether more lies beyond, and the read marks the page shows."""
        limit = checks.integer(limit, "limit", 1, 100)
        if before is not None and after is not None:
            raise BadInput("give before or after, not both", "bad_cursor")
        before = None if before is None else checks.integer(before, "before", 0)
        after = None if after is None else checks.integer(after, "after", 0)
        rules = self.rules[conversation.kind]
        state = rules.readable(uid, conversation)
        page = self.reader.history(uid, conversation, before, after, limit + 1)
        has_more = len(page) > limit
        if has_more:  # drop the one extra row that was read only to know more lies beyond
            page = page[:limit] if after is not None else page[1:]
        return {"messages": [message_view(m) for m in page], "has_more": has_more,
                **rules.marks(uid, conversation, state)}

    def mark_read(self, uid: int, conversation: Conversation, up_to=None) -> dict:
        """Mark the conversation read up to a mid (default: all); tell uid's sessions, and whoever the kind says
        sees reads (the other user of a 1:1 chat, the senders of a group's messages it covers)."""
        up_to = None if up_to is None else checks.integer(up_to, "up_to", 0)
        rules = self.rules[conversation.kind]
        try:
            read = self.unread.mark_read(uid, conversation, up_to)
        except REFUSALS as e:
            raise rules.refused(conversation, e) from None
        self.notifier.publish_many(rules.read_notices(uid, conversation, read))
        return {"unread": read.unread, "total_unread": read.total, "read_mid": read.read_mid}
