"""Store layer: a message as the store hands it out (Message), as its sender asks for it (Draft), what a
commit wrote for it (Stored), and the JSON shape it travels in: in answers, in notices and in pushes, so the
body a notice carries is the very one the API answers with.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .attachment import attachment_view
from .conversation import DIRECT, GROUP, Conversation

TEXT, SYSTEM = 0, 1  # im_msg_content.msg_type; a system message records a group's membership change
IMAGE, FILE = 2, 3  # a message carrying a file (its caption in content): an image shown inline, or a download
KIND_NAMES = {TEXT: "text", SYSTEM: "system", IMAGE: "image", FILE: "file"}
NEVER_UNREAD = frozenset({SYSTEM})  # kinds no unread count includes; every other kind counts (text, image, file)
MESSAGE_COLUMNS = ("c.mid, c.sender_id, c.recipient_id, c.content, c.client_msg_id, c.create_time, c.msg_type,"
                   " c.gseq, c.event, c.attachment")


@dataclass(frozen=True)
class Message:
    mid: int
    sender: int
    conversation: Conversation  # as its sender sees it: u<recipient>, or g<gid>
    content: str
    client_msg_id: str | None
    created_ms: int
    kind: int = TEXT
    gseq: int | None = None  # its place in its group's one order
    event: str | None = None  # a system message's structured event, as JSON
    attachment: str | None = None  # an image or file message's file, as JSON (attachment.py)

    @classmethod
    def from_row(cls, row) -> Message:
        """A message from the MESSAGE_COLUMNS of a row."""
        return cls(int(row[0]), int(row[1]), Conversation.of_peer(int(row[2])), row[3], row[4], int(row[5]),
                   int(row[6] or 0), None if row[7] is None else int(row[7]), row[8], row[9])

    def conversation_of(self, uid: int) -> Conversation:
        """The conversation this message is in, as uid sees it (a 1:1 message's recipient sees u<sender>)."""
        return self.conversation.seen_by(uid, self.sender)


@dataclass(frozen=True)
class Draft:
    """One message to store, as its sender asked for it."""

    sender: int
    conversation: Conversation
    content: str
    client_msg_id: str | None = None
    kind: int = TEXT
    event: str | None = None
    fid: int | None = None  # the file an IMAGE or FILE message carries
    attachment: str | None = None  # and how the message shows it, as JSON


@dataclass(frozen=True)
class Stored:
    """What a commit wrote for a message: the message, the seq it took in each timeline it reached, and, for a
    1:1 message, its recipient's counters after it (the live unread hint)."""

    message: Message
    created: bool  # False when client_msg_id named a message stored before
    seqs: dict[int, int] = field(default_factory=dict)  # uid -> seq, in the order the timelines were written
    recipient_total: int = 0
    recipient_conversation: int = 0
    counters_ready: bool = True
    own_timeline: bool = False  # stored in its conversation's own timeline (a large group's: read diffusion)


def iso_time(ms: int) -> str:
    """Format epoch milliseconds as ISO 8601 UTC."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Where a message went, in its JSON shape: a 1:1 message names its recipient (to); a group message its group
# and its place in the group's one order (gseq).
_ADDRESS = {DIRECT: lambda m: {"to": m.conversation.id},
            GROUP: lambda m: {"group": m.conversation.id, "gseq": m.gseq}}


def message_view(m: Message) -> dict:
    """The message as the API shows it; a system message carries the structured event of its change."""
    view = {"mid": m.mid, "from": m.sender, **_ADDRESS[m.conversation.kind](m), "kind": KIND_NAMES[m.kind],
            "content": m.content, "created_at": iso_time(m.created_ms), "client_msg_id": m.client_msg_id}
    if m.event is not None:
        view["event"] = json.loads(m.event)
    if m.attachment is not None:
        view["attachment"] = attachment_view(m.attachment)
    return view


def message_event(seq: int, m: Message) -> dict:
    """The sync event of a message at seq in a user's timeline."""
    return {"type": "message", "seq": seq, "message": message_view(m)}
