"""Services layer: search the messages a user may see (SPEC section 17): check the query, name the conversation
searched in (one the caller cannot see is 404, as its history is), find the matches through the caller's own
timeline (store/search.py), and cut a snippet of each around its first match, the matched parts marked."""
from __future__ import annotations

from ..store.conversation import Conversation
from ..store.message import message_view
from ..store.search import SearchIndex
from ..store.search_text import Term, match_spans, query_terms
from . import checks
from .errors import BadInput

MAX_QUERY = 100  # characters after trimming
MAX_LIMIT = 50
SNIPPET, LEAD = 80, 20  # characters a snippet shows at most, and of them before its first match
ELLIPSIS = "…"


class SearchService:
    """Search a user's messages, in every conversation or in one."""

    def __init__(self, index: SearchIndex, rules: dict):
        self.index, self.rules = index, rules

    def search(self, uid: int, q, conversation=None, before=None, limit=20) -> dict:
        """The text messages uid may see that hold every term of q (a word as a whole word, a run of Chinese as
        a substring), newest first, older than before (a mid), each with its conversation and a snippet."""
        q = checks.text(q, "q", 1, MAX_QUERY)
        limit = checks.integer(limit, "limit", 1, MAX_LIMIT)
        before = None if before is None else checks.integer(before, "before", 0)
        if conversation is not None:
            cid, conversation = conversation, Conversation.parse(conversation)
            if conversation is None:
                raise BadInput(f"conversation must be a cid such as u1001 or g7, not {cid[:32]!a}",
                               "invalid_conversation")
            self.rules[conversation.kind].readable(uid, conversation)  # 404 for one uid cannot see
        terms = query_terms(q)
        found = self.index.find(uid, terms, conversation, before, limit + 1)
        has_more = len(found) > limit
        found = found[:limit]
        return {"terms": [term.text for term in terms], "has_more": has_more,
                "next_before": found[-1].mid if has_more else None,
                "results": [{"conversation": m.conversation_of(uid).cid, "message": message_view(m),
                             "snippet": snippet(m.content, terms)} for m in found]}


def snippet(text: str, terms: list[Term]) -> list[dict]:
    """Up to SNIPPET characters of text around its first match, as parts {"text", "match"}: a page shows the
    matched ones marked, by elements (never as HTML). An ellipsis stands for what is cut off."""
    spans = match_spans(text, terms)
    first = spans[0] if spans else (0, 0)
    start = max(0, min(first[0] - LEAD, len(text) - SNIPPET))
    end = min(len(text), max(start + SNIPPET, first[1]))
    parts, at = [], start
    for a, b in spans:
        a, b = max(a, start), min(b, end)
        if a >= b:
            continue
        if a > at:
            parts.append({"text": text[at:a], "match": False})
        parts.append({"text": text[a:b], "match": True})
        at = b
    if at < end:
        parts.append({"text": text[at:end], "match": False})
    if start > 0:
        parts.insert(0, {"text": ELLIPSIS, "match": False})
    if end < len(text):
        parts.append({"text": ELLIPSIS, "match": False})
    return parts
