"""Store layer: the search index of text messages (SPEC section 17): a row per message holding its tokens
(search_text.py), written by the one writer in the transaction that writes the message (commit.py), and
searched through the caller's own timeline, so join bounds hold exactly as in history.

Each database keeps the same tokens its own way: SQLite in an FTS5 table (`tokenize = 'ascii'`: it splits
only on ASCII spaces and punctuation, which no token holds, so every token is kept as it is), PostgreSQL in
a tsvector column with a GIN index, the tsvector and tsquery written as literals (its text parser would
split and rename tokens by its own rules). Both match the same terms, so both give the same answers.
"""
from __future__ import annotations

import peewee

from . import search_text
from .conversation import Conversation
from .message import MESSAGE_COLUMNS, TEXT, Message
from .search_text import Term

SEARCHABLE = (TEXT,)  # the kinds of message whose content is indexed (a system message is never a result)
KINDS = ", ".join(str(kind) for kind in SEARCHABLE)
# Each row also holds its conversation as a token, so a search in one conversation is the index's own AND of
# two token lists (a word and the conversation) instead of a walk through every match. "§" is punctuation, which
# search_text never makes a token of: no query can name it.
CONVERSATION = "§"


def _sqlite_document(tokens: list[str]) -> str:
    return " ".join(tokens)


def _sqlite_query(terms: list[Term]) -> str:
    """An FTS5 query: every term, each a quoted phrase (a token, or a CJK run's pairs in a row). Tokens hold
    no quote, so nothing the user typed can be FTS5 syntax."""
    return " AND ".join('"' + " ".join(term.tokens) + '"' for term in terms)


def _quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _postgres_document(tokens: list[str]) -> str:
    """A tsvector literal: each token with its positions ('你好':1 '你':3), as FTS5 numbers them."""
    positions: dict[str, list[str]] = {}
    for at, token in enumerate(tokens, start=1):
        positions.setdefault(token, []).append(str(min(at, 16383)))  # PostgreSQL's highest position
    return " ".join(f"{_quote(token)}:{','.join(at)}" for token, at in positions.items())


def _postgres_query(terms: list[Term]) -> str:
    """A tsquery literal: every term (&), a CJK run's pairs as a phrase (<->, adjacent positions)."""
    return " & ".join("(" + " <-> ".join(_quote(token) for token in term.tokens) + ")" for term in terms)


FIND = (f"SELECT {MESSAGE_COLUMNS} FROM im_msg_search s {{join}} im_msg_relation r"
        " ON r.owner_uid = ? AND r.mid = s.{key} JOIN im_msg_content c ON c.mid = r.mid"
        f" WHERE {{match}} AND s.{{key}} < ? AND c.msg_type IN ({KINDS}) ORDER BY s.{{key}} DESC LIMIT ?")
# A large group's messages (read diffusion) have no row in the caller's timeline: they are found through the
# group's own timeline, within the caller's join bounds, as its history is (read_diffusion.py); the rows from
# before a group was large are in the caller's timeline and found by FIND.
FIND_LARGE = (f"SELECT {MESSAGE_COLUMNS} FROM im_msg_search s {{join}} im_group_timeline t"
              " ON t.gid = ? AND t.mid = s.{key} JOIN im_msg_content c ON c.mid = t.mid"
              f" WHERE {{match}} AND s.{{key}} < ? AND s.{{key}} >= ? AND s.{{key}} <= ? AND c.msg_type IN ({KINDS})"
              " ORDER BY s.{key} DESC LIMIT ?")
LARGE_GROUPS = ("SELECT m.gid, m.joined_mid, m.left_mid FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                " WHERE m.uid = ? AND g.storage = 1")
NEVER = 2**62
DIALECTS = {
    # The index first, newest match first (FTS5 walks its matches in rowid order, descending here), each looked
    # up in the caller's timeline by its primary key (owner_uid, mid): CROSS JOIN keeps SQLite to that order.
    "sqlite": {"key": "rowid", "join": "CROSS JOIN", "match": "s.tokens MATCH ?", "document": _sqlite_document,
               "query": _sqlite_query},
    "postgres": {"key": "mid", "join": "JOIN", "match": "s.tokens @@ CAST(? AS tsquery)",
                 "document": _postgres_document, "query": _postgres_query, "cast": "CAST(? AS tsvector)"},
}


class SearchIndex:
    """Add, forget and replace a message's tokens; find the messages a user may see that hold some terms."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.sqlite = isinstance(db, peewee.SqliteDatabase)
        d = self.dialect = DIALECTS["sqlite" if self.sqlite else "postgres"]
        key, value = d["key"], d.get("cast", "?")
        sql = {"insert": f"INSERT INTO im_msg_search ({key}, tokens) VALUES (?, {value})",
               "delete": f"DELETE FROM im_msg_search WHERE {key} = ?",
               "find": FIND.format(join=d["join"], key=key, match=d["match"]),
               "find_large": FIND_LARGE.format(join=d["join"], key=key, match=d["match"]),
               "large_groups": LARGE_GROUPS,
               "sides": "SELECT sender_id, recipient_id FROM im_msg_content WHERE mid = ?"}
        self.row = f"(?, {value})".replace("?", db.param)
        self.sql = {name: text.replace("?", db.param) for name, text in sql.items()}

    def add(self, messages: list[Message]) -> None:
        """Index the searchable ones of messages just written (inside their commit's transaction)."""
        self.add_texts([(m.mid, m.content, m.conversation.shared_name(m.sender)) for m in messages
                        if m.kind in SEARCHABLE])

    def add_texts(self, texts: list[tuple[int, str, str]]) -> None:
        """Index each (mid, text, its conversation's shared name); a text with nothing searchable in it (only
        punctuation) gets no row."""
        rows = [(mid, self.dialect["document"]([*tokens, CONVERSATION + name])) for mid, text, name in texts
                if (tokens := search_text.tokens(text))]
        if not rows:
            return
        if len(rows) == 1:
            self.db.execute_sql(self.sql["insert"], rows[0])
        elif self.sqlite:  # in process: one prepared statement stepped per row
            self.db.execute_many(self.sql["insert"], rows)
        else:  # over the network: one statement for them all
            values = ", ".join([self.row] * len(rows))
            self.db.execute_sql(f"INSERT INTO im_msg_search (mid, tokens) VALUES {values}",
                                [x for row in rows for x in row])

    def forget(self, mid: int) -> None:
        """Take a message out of the index: a recalled message is never found again. Call it inside the
        writer's commit of the recall, so the message and its index row change together."""
        self.db.execute_sql(self.sql["delete"], (mid,))

    def replace(self, mid: int, text: str) -> None:
        """Index a message by its new text (an edit), in place of what it said before; inside the writer's
        commit of the edit."""
        self.forget(mid)
        sender, peer = self.db.execute_sql(self.sql["sides"], (mid,)).fetchone()
        self.add_texts([(mid, text, Conversation.of_peer(int(peer)).shared_name(int(sender)))])

    def find(self, uid: int, terms: list[Term], conversation: Conversation | None, before: int | None,
             limit: int) -> list[Message]:
        """Up to limit messages uid may see that hold every term, newest first, older than before (a mid): those
        in uid's timeline (a group from their join point, a former member what they had) and those of uid's large
        groups' own timelines within uid's join bounds."""
        if not terms:
            return []
        before = NEVER if before is None else before
        found = self._find("find", [uid], uid, terms, conversation, before, limit)
        for gid, joined, left in self.db.execute_sql(self.sql["large_groups"], (uid,)).fetchall():
            group = Conversation.group(int(gid))
            if conversation is None or conversation == group:
                bounds = (int(joined), NEVER if left is None else int(left))
                found += self._find("find_large", [group.id], uid, terms, group, before, limit, bounds)
        found.sort(key=lambda m: m.mid, reverse=True)
        return found[:limit]

    def _find(self, sql: str, lead: list, uid: int, terms: list[Term], conversation: Conversation | None,
              before: int, limit: int, bounds: tuple = ()) -> list[Message]:
        """One of the statements: the index's matches of every term (and of the conversation's token, when
        searching one) older than before, newest first."""
        if conversation is not None:
            name = CONVERSATION + conversation.shared_name(uid)
            terms = [*terms, Term((name,), name, "conversation")]
        params = [*lead, self.dialect["query"](terms), before, *bounds, limit]
        return [Message.from_row(row) for row in self.db.execute_sql(self.sql[sql], params).fetchall()]
