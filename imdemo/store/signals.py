"""Store layer: signals and mentions inside a commit (lecture 9). A recall or an edit is a message of its own
kind about another message, its target (message.py); a group message may mention members (mentions.py).

The services' rule of each (who may recall or edit what, whom one may mention) runs here, in the commit, on
what the commit holds locked: the conversation (a group's row), the target's row, and whom the message
reaches, so two recalls, or a recall and an edit, racing for one message resolve once. A signal reaches the
timelines its target reached, of those the conversation's kind reaches now. Then the target is changed where
it is stored: an edit puts its text there; a recall erases its content (and its edits': who and when stay)
and turns its RECEIVED rows into RECALLED ones, which no count includes. As the commit's last step, each
member who had not read it gets that conversation recounted from the rows (unread.py), with a live hint.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace

import peewee

from .mentions import Mentions
from .message import EDIT, MESSAGE_COLUMNS, RECALL, SIGNALS, Draft, Message, Stored
from .rows import CHUNK, RECALLED, RECEIVED
from .search import SearchIndex
from .unread import UnreadCounts

SQL = {
    # the target's row, locked until the commit (PostgreSQL; SQLite's one writer holds everything anyway), in
    # ascending mid order, after the conversations' rows and before the users': no two commits wait in a cycle
    "lock": "UPDATE im_msg_content SET msg_type = msg_type WHERE mid = ? RETURNING mid",
    "message": f"SELECT {MESSAGE_COLUMNS} FROM im_msg_content c WHERE c.mid = ?",
    # a recalled message keeps who sent it and when; its words and its file are gone (nobody reads the file by it)
    "erase": "UPDATE im_msg_content SET content = '', recalled_by = ?, fid = NULL, attachment = NULL WHERE mid = ?",
    "erase_edits": f"UPDATE im_msg_content SET content = '' WHERE target_mid = ? AND msg_type = {EDIT}",
    "edit": "UPDATE im_msg_content SET content = ?, edited_at = ? WHERE mid = ?",
}


@dataclass(frozen=True)
class Check:
    """What a draft's rule is checked on: who acts, whom the message reaches, the conversation's owner (None:
    it has none), the target as it stands in this commit (None: none the actor may see), and the time."""

    actor: int
    reach: tuple[int, ...]
    owner: int | None
    target: Message | None
    now_ms: int


class Refused(Exception):
    """A draft's rule refused it; args[0] is the services' error, the draft's answer."""


class Signals:
    """The store's part of recalls, edits and mentions; one SignalBatch per commit."""

    def __init__(self, db: peewee.Database, kinds: dict, unread: UnreadCounts, mentions: Mentions,
                 search: SearchIndex | None = None):
        self.db, self.kinds, self.unread, self.mentions, self.search = db, kinds, unread, mentions, search
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def message(self, mid: int) -> Message | None:
        """A message as it stands now (a signal's answer after a repeated client_msg_id)."""
        row = self.db.execute_sql(self.sql["message"], (mid,)).fetchone()
        return Message.from_row(row) if row else None

    def batch(self, drafts: list[Draft]) -> SignalBatch:
        """Lock the targets of a commit's drafts (ascending mid) and read them as they stand."""
        targets = {}
        for mid in sorted({d.target for d in drafts if d.target is not None}):
            locked = self.db.execute_sql(self.sql["lock"], (mid,)).fetchone()
            targets[mid] = self.message(mid) if locked else None
        return SignalBatch(self, targets)

    def holding(self, mid: int, uids: tuple[int, ...]) -> tuple[int, ...]:
        """Those of uids whose timeline holds message mid, in uids' order."""
        found: set[int] = set()
        for i in range(0, len(uids), CHUNK):
            part = uids[i:i + CHUNK]
            marks = ", ".join([self.db.param] * len(part))
            rows = self.db.execute_sql(f"SELECT owner_uid FROM im_msg_relation WHERE mid = {self.db.param}"
                                       f" AND owner_uid IN ({marks})", [mid, *part]).fetchall()
            found.update(int(uid) for (uid,) in rows)
        return tuple(uid for uid in uids if uid in found)

    def recall_rows(self, target: Message, by: int, holders: tuple[int, ...]) -> list[int]:
        """Erase a recalled message's content and its edits', keep who recalled it; its RECEIVED rows in the
        holders' timelines become RECALLED. Return the holders who had received it (their counts may move)."""
        self.db.execute_sql(self.sql["erase"], (by, target.mid))
        self.db.execute_sql(self.sql["erase_edits"], (target.mid,))
        self.search_changed(target.mid, None)
        received = []
        for i in range(0, len(holders), CHUNK):
            part = holders[i:i + CHUNK]
            marks = ", ".join([self.db.param] * len(part))
            rows = self.db.execute_sql(
                f"UPDATE im_msg_relation SET type = {RECALLED} WHERE mid = {self.db.param} AND type = {RECEIVED}"
                f" AND owner_uid IN ({marks}) RETURNING owner_uid", [target.mid, *part]).fetchall()
            received += [int(uid) for (uid,) in rows]
        return received

    def edit_rows(self, target: Message, text: str, at_ms: int) -> None:
        """Put an edit's text in its target's row, with when."""
        self.db.execute_sql(self.sql["edit"], (text, at_ms, target.mid))
        self.search_changed(target.mid, text)

    def search_changed(self, mid: int, text: str | None) -> None:
        """The search index follows a recall (text None: the message is found no more) or an edit (found by its
        new text only), in the same transaction."""
        if self.search is None:
            return
        if text is None:
            self.search.forget(mid)
        else:
            self.search.replace(mid, text)


class SignalBatch:
    """The signals and mentions of one commit: checked in the order of its drafts, each seeing the ones before
    it (two recalls of one message in one commit: the second finds it recalled)."""

    def __init__(self, signals: Signals, targets: dict[int, Message | None]):
        self.signals, self.targets = signals, targets
        self.stands = dict(targets)  # mid -> the target as the drafts checked so far leave it
        self.holders: dict[int, tuple[int, ...]] = {}  # id(draft) -> the timelines a signal reaches
        self.received: dict[tuple[int, int], tuple[int, Message]] = {}  # (uid, target) -> (draft index, target)

    def check(self, draft: Draft, reach: tuple[int, ...], locked) -> tuple[int, ...]:
        """Run the draft's rule on what the commit holds; return whom it reaches (a signal: those of reach who
        hold its target; in a conversation kept in a timeline of its own, a large group's, nobody: it goes there,
        and its members' cursors bring it). Raise Refused with the rule's error."""
        kind = self.signals.kinds[draft.conversation.kind]
        own = kind.own_timeline(locked)
        target, holders, members = None, reach, reach
        if draft.target is not None:
            target = self.stands.get(draft.target)
            sees = target is not None and target.kind not in SIGNALS and \
                target.conversation_of(draft.sender) == draft.conversation
            if sees and own:  # within the actor's join bounds, as their history shows it
                sees, holders = kind.sees(draft.sender, target), ()
            elif sees:
                holders = self.signals.holding(target.mid, reach)
                sees = draft.sender in holders
            if not sees:
                target = None  # no message the actor may see here: the rule says 404
        elif own and draft.mentions is not None:  # who of those it names is a member: asked, not read all
            members = kind.present(draft.conversation.id, _named(draft.mentions))
        check = Check(draft.sender, members, kind.owner(draft.conversation), target, int(time.time() * 1000))
        try:
            draft.rule(check)
        except Exception as refused:  # the services' rule said no: this draft's own answer, the others go on
            raise Refused(refused) from None
        if target is not None:
            self.stands[target.mid] = _after(target, draft, check.now_ms)
            # whose rows a recall turns RECALLED: a large group's rows from before it was large are its members'
            self.holders[id(draft)] = (kind.holding_rows(target, locked, self.signals.holding) if own
                                       else holders)
        return holders

    def wrote(self, i: int, draft: Draft, message: Message, locked) -> Message:
        """After a draft's rows: its mentions, or its change to its target; return the message, a signal with
        its target as it stands after it. A recall in a conversation kept in its own timeline (a large group)
        also tells its kind, which accounts for it with every member who had it unread (groups.py)."""
        if draft.mentions is not None:
            self.signals.mentions.add(message.conversation.id, message.mid, draft.mentions)
        if draft.kind not in SIGNALS:
            return message
        before = self.targets[draft.target]
        after = _after(before, draft, message.created_ms)
        self.targets[draft.target] = after
        if draft.kind == RECALL:
            for uid in self.signals.recall_rows(before, draft.sender, self.holders[id(draft)]):
                self.received[(uid, before.mid)] = (i, before)
            kind = self.signals.kinds[draft.conversation.kind]
            if kind.own_timeline(locked):
                kind.recalled(before, locked)
        else:
            self.signals.edit_rows(before, draft.content, message.created_ms)
        return replace(message, target=after)

    def settle(self, outcomes: list, counted: set[int]) -> None:
        """The commit's last step: recount each conversation where a recalled message was unread, from the rows
        (unread.py), and add its hint to the recall's outcome (announce.py sends it with the commit's notice)."""
        hints: dict[int, list] = {}
        for (uid, _), (i, target) in sorted(self.received.items()):
            conversation = target.conversation_of(uid)
            counts = self.signals.unread.recount(uid, conversation, target.mid)
            if counts is None:  # read already: nothing it counted has moved
                continue
            counted.add(uid)
            unread, total = counts
            hints.setdefault(i, []).append((uid, {"type": "unread", "total": total,
                                                  "conversation": {**conversation.named(), "unread": unread}}))
        for i, found in hints.items():
            stored: Stored = outcomes[i]
            outcomes[i] = replace(stored, hints=stored.hints + tuple(found))


def _named(mentions: str) -> list[int]:
    """The uids a draft's mentions name (none for "all")."""
    named = json.loads(mentions)
    return named if isinstance(named, list) else []


def _after(target: Message, draft: Draft, now_ms: int) -> Message:
    """The target as a signal leaves it."""
    if draft.kind == RECALL:
        return replace(target, content="", recalled_by=draft.sender, attachment=None)
    if draft.kind == EDIT:
        return replace(target, content=draft.content, edited_ms=now_ms)
    return target
