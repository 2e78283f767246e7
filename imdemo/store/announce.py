"""Store layer: a commit's announcement. Once a commit's transaction is in, every user it reached is told in
one PUBLISH (notices.py): each one's newest seq and message events, so a WebSocket pushes them without reading
them back (anything it did not get in order it reads by seq), each message's body once however many
timelines it reached, and for a 1:1 message an unread hint for its recipient (live only: a poller gets the
message event, which is the +1; a group's members count the message events too, so a group message costs no
hint per member). A small group's message names its members and their seqs as two lists ("fanout"), not a
notice each; a large group's names its group and gseq only ("groups"), and each process hands it to the
connections it holds of that group's members. A recall that moved counts brings their hints (signals.py);
those are kept for pollers too.
"""
from __future__ import annotations

from collections.abc import Callable

from .message import NEVER_UNREAD, Stored, message_view
from .notices import Notifier


class Announcer:
    """Tell the users a commit reached what it wrote."""

    def __init__(self, notifier: Notifier, kinds: dict, stamp: Callable[[list[Stored]], dict] | None = None):
        self.notifier, self.kinds = notifier, kinds
        self.stamp = stamp  # what the notice of a commit says about it besides its events (app.py: _stamp)

    def committed(self, stored: list[Stored]) -> None:
        """Publish the notice of a commit's new messages, in commit order (each user's events in seq order)."""
        if not stored:
            return
        bodies, notices, fanout, timelines = {}, {}, [], []
        for s in stored:
            m, key = s.message, str(s.message.mid)
            bodies[key] = message_view(m)
            if s.own_timeline:  # a large group's: its members' connections hear it by the group and its gseq
                timelines.append((key, m.conversation.id, m.gseq))
            for uid, hint in s.hints:
                notices.setdefault(uid, {}).setdefault("hints", []).append(hint)
            if self.kinds[m.conversation.kind].notice == "fanout":
                if s.seqs:
                    fanout.append((key, list(s.seqs), list(s.seqs.values())))
                continue
            for uid, seq in s.seqs.items():
                notice = notices.setdefault(uid, {})
                notice["seq"] = seq
                notice.setdefault("events", []).append([seq, key])
                if uid != m.sender and m.kind not in NEVER_UNREAD:
                    notice.setdefault("hints", []).append(
                        {"type": "unread", "total": s.recipient_total,
                         "conversation": {**m.conversation_of(uid).named(), "unread": s.recipient_conversation}})
        recounted = any(s.hints for s in stored)  # rare: a poller learns of a recall's counts by its hints
        self.notifier.publish_many(list(notices.items()), keep_hints=recounted, bodies=bodies, fanout=fanout,
                                   groups=timelines, stamp=self.stamp(stored) if self.stamp is not None else None)
