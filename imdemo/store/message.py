"""Store layer: a message as the store hands it out (Message), as its sender asks for it (Draft), what a
commit wrote for it (Stored), and the JSON shape it travels in: in answers, in notices and in pushes, so the
body a notice carries is the very one the API answers with.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .attachment import attachment_view
from .conversation import DIRECT, GROUP, Conversation

TEXT, SYSTEM = 0, 1  # im_msg_content.msg_type; a system message records a group's membership change
IMAGE, FILE = 2, 3  # a message carrying a file (its caption in content): an image shown inline, or a download
# Signals (lecture 9): messages about another message, its target: in every member's stream (seqs, resume),
# never unread, not in history (the target shows what they did), not a conversation's newest message.
RECALL, EDIT = 10, 11
KIND_NAMES = {TEXT: "text", SYSTEM: "system", IMAGE: "image", FILE: "file", RECALL: "recall", EDIT: "edit"}
SIGNALS = frozenset({RECALL, EDIT})
# kinds no unread count includes (their timeline rows are notices, rows.py); every other kind counts (text,
# image, file)
NEVER_UNREAD = frozenset({SYSTEM, *SIGNALS})
MESSAGE_COLUMNS = ("c.mid, c.sender_id, c.recipient_id, c.content, c.client_msg_id, c.create_time, c.msg_type,"
                   " c.gseq, c.event, c.attachment, c.target_mid, c.recalled_by, c.edited_at, c.mentions")


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
    target_mid: int | None = None  # a signal's target: the message it recalls or edits
    recalled_by: int | None = None  # who recalled it: its content is erased
    edited_ms: int | None = None  # when it was last edited
    mentions: str | None = None  # whom a group message mentions, as JSON: [uid, ...] or "all"
    target: Message | None = None  # a signal's target as it stands after the signal, when read with it

    @classmethod
    def from_row(cls, row) -> Message:
        """A message from the MESSAGE_COLUMNS of a row."""
        return cls(int(row[0]), int(row[1]), Conversation.of_peer(int(row[2])), row[3], row[4], int(row[5]),
                   int(row[6] or 0), _number(row[7]), row[8], row[9], _number(row[10]), _number(row[11]),
                   _number(row[12]), row[13])

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
    target: int | None = None  # a signal's target mid
    mentions: str | None = None  # as Message.mentions
    # The services' rule, checked inside the commit on what it locked (signals.py: Check); raises to refuse.
    rule: Callable | None = field(default=None, compare=False)


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
    hints: tuple[tuple[int, dict], ...] = ()  # (uid, live hint) riding in the commit's notice: a recall's recounts

    @property
    def timelines(self) -> int:
        """How many timelines it was written to: a row per member reached, and a large group's own."""
        return len(self.seqs) + self.own_timeline


def iso_time(ms: int) -> str:
    """Format epoch milliseconds as ISO 8601 UTC."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Where a message went, in its JSON shape: a 1:1 message names its recipient (to); a group message its group
# and its place in the group's one order (gseq).
_ADDRESS = {DIRECT: lambda m: {"to": m.conversation.id},
            GROUP: lambda m: {"group": m.conversation.id, "gseq": m.gseq}}


def message_view(m: Message) -> dict:
    """The message as the API shows it; a system message carries the structured event of its change, a group
    message its mentions, a recalled one who recalled it (its content is gone), an edited one when. A signal
    names its target, as it stands after the signal when it was read with it."""
    view = {"mid": m.mid, "from": m.sender, **_ADDRESS[m.conversation.kind](m), "kind": KIND_NAMES[m.kind],
            "content": m.content, "created_at": iso_time(m.created_ms), "client_msg_id": m.client_msg_id}
    if m.event is not None:
        view["event"] = json.loads(m.event)
    if m.attachment is not None:
        view["attachment"] = attachment_view(m.attachment)
    if m.kind in SIGNALS:
        view["target"] = message_view(m.target) if m.target is not None else {"mid": m.target_mid}
    if m.mentions is not None:
        view["mentions"] = json.loads(m.mentions)
    if m.recalled_by is not None:
        view["recalled_by"] = m.recalled_by
    if m.edited_ms is not None:
        view["edited_at"] = iso_time(m.edited_ms)
    return view


def message_event(seq: int, m: Message, uid: int) -> dict:
    """The sync event of a message at seq in uid's timeline."""
    return event_of(seq, message_view(m), uid)


def event_of(seq: int, body: dict, uid: int) -> dict:
    """The sync event at seq in uid's timeline of the message whose view is body: the message, or what a signal
    did to its target: {"type": "recalled", "conversation": cid as uid sees it, "mid", "by"}, or {"type":
    "edited", "message": the target as it stands}."""
    if body["kind"] == "recall":
        if "group" in body:
            seen = Conversation.group(body["group"])
        else:  # a 1:1 chat is named by the other user
            seen = Conversation.direct(body["to"] if body["from"] == uid else body["from"])
        return {"type": "recalled", "seq": seq, "conversation": seen.cid, "mid": body["target"]["mid"],
                "by": body["from"]}
    if body["kind"] == "edit":
        return {"type": "edited", "seq": seq, "message": body["target"]}
    return {"type": "message", "seq": seq, "message": body}


def group_event(gid: int, gseq: int, body: dict) -> dict:
    """The event at gseq in large group gid's own timeline of the message whose view is body: as event_of, the
    message or what a signal did to its target, named by its group and gseq instead of a seq."""
    event = event_of(0, body, 0)
    del event["seq"]
    return {**event, "group": gid, "gseq": gseq}


def _number(value) -> int | None:
    return None if value is None else int(value)
