"""Store layer: how a message's text becomes search tokens, written once in Python for both databases.

Neither database can cut Chinese into words (SQLite FTS5's tokenizers and PostgreSQL's parser split on spaces,
and Chinese has none): so this module does it, as Lucene's CJK bigram analyzer does. Text is normalised
(NFKC, case folded: "Ｈｅｌｌｏ" is "hello"), then cut into segments: a run of CJK characters (Han, kana,
Hangul) gives each character and each adjacent pair as tokens ("你好吗": 你好 好吗 你 好 吗); a run of other
letters and digits is one word; a symbol such as an emoji is a token of its own; the rest (spaces,
punctuation) separates. The database stores these tokens as they are and matches them exactly.

A query is cut the same way into terms, and a message matches when it holds every term: a word as a whole
word, a CJK run as a substring (one character: its token; two: their pair; three or more: the phrase of its
pairs, which only adjacent pairs form: each run's pairs are written together, its characters after them).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Han (with extensions and compatibility ideographs), hiragana and katakana, Hangul: scripts written without
# spaces between words (Hangul is bigrammed too, as Lucene's CJK analyzer does)
CJK = ("\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
       "\uf900-\ufaff\U00020000-\U0003134f")


def _marks() -> str:
    """A regex class body of the combining marks of the BMP (Unicode category M): they belong to the word
    they are in (Hindi's vowel signs, Turkish's dotted i folded to "i" + U+0307), though \\w leaves them out."""
    ranges, start = [], None
    for cp in range(0x10001):
        mark = cp < 0x10000 and unicodedata.category(chr(cp))[0] == "M"
        if mark and start is None:
            start = cp
        elif not mark and start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(cp - 1))}")
            start = None
    return "".join(ranges)


MARKS = _marks()
# A text's segments: runs of CJK, words, single non-ASCII symbols (kept if they are symbols, So). Words may
# hold combining marks only in the pattern for texts that have some: alternatives in a repeated group cost
# the regex engine several times a character class, on every message sent.
SEGMENT = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>[^\W_{CJK}]+)|(?P<other>[^\s\w\x00-\x7f])")
SEGMENT_MARKED = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>(?:[^\W_{CJK}]|[{MARKS}])+)|(?P<other>[^\s\w\x00-\x7f])")
HAS_MARK = re.compile(f"[{MARKS}]")
ASCII_WORD = re.compile(r"[a-z0-9]+")  # an ASCII text, lowered, has no CJK, marks or symbols
MAX_WORD = 64  # characters: a longer word is cut there, in messages and queries alike (PostgreSQL's limit)


@dataclass(frozen=True)
class Term:
    """One term of a query: the tokens a message must hold in a row (one, or the pairs of a CJK run), its
    normalised text, and its kind: a "word" matches whole words, a "cjk" run or a "symbol" any substring."""

    tokens: tuple[str, ...]
    text: str
    kind: str


def _fold(text: str):
    """Yield (normalised characters, start, end): each character of text, with the combining marks after it,
    normalised together (NFKC, case folded), and where it was in text."""
    start = 0
    for end in range(1, len(text) + 1):
        if end < len(text) and unicodedata.combining(text[end]):
            continue  # a combining mark belongs with the character before it: "e" + U+0301 is "é"
        yield unicodedata.normalize("NFKC", text[start:end]).casefold(), start, end
        start = end


def normalise(text: str) -> str:
    """The text as it is searched: NFKC, case folded ("Ｈｅｌｌｏ" is "hello")."""
    if text.isascii():
        return text.lower()
    if unicodedata.is_normalized("NFKC", text):  # most text: then each piece of it is too, and folding is per
        return text.casefold()                   # character, so this is what _fold would give, 40x sooner
    return "".join(part for part, _, _ in _fold(text))


def normalise_with_origin(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The normalised text and, for each of its characters, the range of text it came from (a snippet marks
    the original)."""
    if text.isascii():
        return text.lower(), [(i, i + 1) for i in range(len(text))]
    chars, origin = [], []
    for part, start, end in _fold(text):
        chars.append(part)
        origin += [(start, end)] * len(part)
    return "".join(chars), origin


def _segments(norm: str):
    """(kind, start, end) of each searchable segment of normalised text."""
    pattern = SEGMENT_MARKED if not norm.isascii() and HAS_MARK.search(norm) else SEGMENT
    for match in pattern.finditer(norm):
        kind = match.lastgroup
        if kind == "other":
            if unicodedata.category(match.group()) != "So":
                continue  # punctuation and the like separate; symbols (emoji, ☆) are searchable
            kind = "symbol"
        yield kind, match.start(), match.end()


def tokens(text: str) -> list[str]:
    """The tokens a message is indexed by, in order (the positions matter: a phrase is adjacent pairs)."""
    norm = normalise(text)
    if norm.isascii():
        return [word[:MAX_WORD] for word in ASCII_WORD.findall(norm)]
    out: list[str] = []
    for kind, start, end in _segments(norm):
        run = norm[start:end]
        if kind == "cjk":
            out += [run[i:i + 2] for i in range(len(run) - 1)]  # a run's pairs together: a phrase is a substring
            out += list(run)
        else:
            out.append(run[:MAX_WORD])
    return out


def index_text(text: str) -> str:
    """The tokens of a message as one space-separated string: what the index stores."""
    return " ".join(tokens(text))


def query_terms(query: str) -> list[Term]:
    """The terms of a search query, each once, in order; none when it holds nothing searchable (only
    punctuation, say): then nothing matches."""
    norm = normalise(query)
    terms: dict[tuple[str, ...], Term] = {}
    for kind, start, end in _segments(norm):
        run = norm[start:end] if kind == "cjk" else norm[start:end][:MAX_WORD]
        pairs = tuple(run[i:i + 2] for i in range(len(run) - 1)) if kind == "cjk" and len(run) > 1 else (run,)
        terms.setdefault(pairs, Term(pairs, run, kind))
    return list(terms.values())


def match_spans(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Where the terms occur in text, as sorted, merged (start, end) ranges of text's own characters."""
    norm, origin = normalise_with_origin(text)
    words = {term.text for term in terms if term.kind == "word"}
    found = [(start, end) for kind, start, end in _segments(norm)
             if kind == "word" and norm[start:end][:MAX_WORD] in words]
    for term in terms:
        if term.kind == "word":
            continue
        at = norm.find(term.text)
        while at >= 0:
            found.append((at, at + len(term.text)))
            at = norm.find(term.text, at + 1)
    spans: list[tuple[int, int]] = []
    for start, end in sorted(found):
        first, last = origin[start][0], origin[end - 1][1]
        if spans and first <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], last))
        else:
            spans.append((first, last))
    return spans
