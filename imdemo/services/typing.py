"""Services layer: "李四 is typing…" (lecture 9's signals that are only hints): relayed live to the other
members' WebSocket connections, never stored, no seq, no stream kept for pollers (a hint that comes late is
worse than none). At most one per user and conversation every INTERVAL seconds (more: 429 over HTTP, dropped
in silence over the WebSocket), and not relayed in a group of more than MOST_MEMBERS."""
from __future__ import annotations

from ..store.attempts import Attempts
from ..store.conversation import Conversation
from ..store.notices import Notifier
from .errors import RateLimited

INTERVAL = 2.0  # seconds
MOST_MEMBERS = 100


class TypingService:
    """Tell the others in a conversation that someone types."""

    def __init__(self, rules: dict, notifier: Notifier, attempts: Attempts):
        self.rules, self.notifier, self.attempts = rules, notifier, attempts

    def typing(self, uid: int, conversation: Conversation, quiet: bool = False) -> None:
        """Relay {"type": "typing", "conversation", "by"} to the others' connections (404 for a conversation
        uid is not in). Over the rate it raises RateLimited, or, quiet, is dropped."""
        audience = self.rules[conversation.kind].audience(uid, conversation, MOST_MEMBERS)
        count, left = self.attempts.count("typing", f"{uid}:{conversation.cid}", INTERVAL)
        if count > 1:
            if quiet:
                return
            raise RateLimited(f"at most one typing signal every {INTERVAL:g} s", left or INTERVAL, "typing_too_often")
        if not audience:  # nobody to tell, or a group too large to be told
            return
        self.notifier.publish_many([(other, {"hints": [{"type": "typing", "by": uid,
                                                        "conversation": conversation.seen_by(other, uid).cid}]})
                                    for other in audience], keep_hints=False)
