"""The pages' languages without a browser: the two string tables match key for key and placeholder for
placeholder, and no page module, page or style sheet says something to a person outside the tables."""
from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parent.parent / "web"
LANG = WEB / "js" / "lang"
SECTIONS = ["// -- the app: login, contacts, chat, status --", "// -- the inspector --", "// -- groups --",
            "// -- media --", "// -- the lab --", "// -- the language switch --", "// -- search --"]
ENTRY = re.compile(r"""^\s*(?P<key>'[^']+'|"[^"]+"):\s*(?P<value>.+?),?\s*$""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def read_table(path: Path) -> dict:
    """Return {key: string, or None for a function entry} and {'__sections__': [markers in order]}.
    Every line must be a key, a comment, a blank or the object's brackets: nothing is skipped silently."""
    entries, sections = {}, []
    lines = path.read_text(encoding="utf-8").splitlines()
    body = lines[lines.index("export default {") + 1: lines.index("};")]
    for number, line in enumerate(body, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("//"):
            if stripped.startswith("// --"):
                sections.append(stripped)
            continue
        match = ENTRY.match(line)
        assert match, f"{path.name}: line {number} of the table is not one 'key': 'value', entry: {line!r}"
        key, value = ast.literal_eval(match["key"]), match["value"]
        assert key not in entries, f"{path.name}: {key} is defined twice"
        entries[key] = None if "=>" in value and value[0] not in "'\"" else ast.literal_eval(value)
    return {"entries": entries, "sections": sections}


@pytest.fixture(scope="module")
def tables() -> dict:
    return {code: read_table(LANG / f"{code}.js") for code in ("en", "zh")}


def test_both_tables_have_the_same_keys_and_the_same_placeholders_per_key(tables):
    en, zh = tables["en"]["entries"], tables["zh"]["entries"]
    assert sorted(set(en) - set(zh)) == [], "keys only in English"
    assert sorted(set(zh) - set(en)) == [], "keys only in Chinese"
    for key, text in en.items():
        if text is None or zh[key] is None:
            assert text is None and zh[key] is None, f"{key} is a function in one table only"
            continue
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(zh[key])), key
        assert text.strip() and zh[key].strip(), f"{key} is empty"
        for table in (text, zh[key]):  # a string that is only slots would match any text on the page
            assert PLACEHOLDER.sub("", table).strip(), f"{key}: {table!r} says nothing but its slots"


def test_both_tables_keep_the_same_sections_in_the_same_order(tables):
    # One section per part of the pages, so people adding keys at once touch different lines.
    assert tables["en"]["sections"] == SECTIONS
    assert tables["zh"]["sections"] == SECTIONS


def test_the_chinese_table_uses_the_course_terms(tables):
    zh = tables["zh"]["entries"]
    expected = {"contacts.recent": "最近联系人", "contacts.all": "所有联系人", "transport.short": "短轮询",
                "transport.long": "长轮询", "transport.ws": "长连接"}
    for key, term in expected.items():
        assert zh[key] == term
    assert "未读数" in zh["contacts.badge"] and "总未读消息" in zh["contacts.total"]
    assert "心跳" in zh["transport.ws.about"] and "ACK" in zh["transport.ws.about"]


# -- no string for people outside the tables --------------------------------------------------------

# Literals a scan would take for English but that no person reads as a sentence of the page.
ALLOWED = {
    "English": "i18n.js: the name of English written in English, the same whichever language is chosen",
    "Enter": "composer.js: the key's name in a KeyboardEvent",
    "Escape": "group-panel.js: the key's name in a KeyboardEvent",
    "Tab": "mentions.js: the key's name in a KeyboardEvent",
    "Notification": "notify.js: the name of the browser's notifications API, looked up on window",
    "AbortError": "the name of the DOMException an aborted fetch throws",
    "Accept": "an HTTP header's name", "Authorization": "an HTTP header's name",
    "Content-Type": "an HTTP header's name", "Retry-After": "an HTTP header's name",
    "Location": "an HTTP header's name", "Tus-Resumable": "a tus header's name", "Upload-Length": "a tus header's name",
    "Upload-Metadata": "a tus header's name", "Upload-Offset": "a tus header's name",
    "Files": "attach.js: the type a drag of files carries (DataTransfer.types)",
    "Bearer ${}": "the Authorization header's scheme",
    "step step-${}": "inspect.js: a class list",
    "${} keys ${} args ${}": "inspect.js: a script call in Redis's own terms (KEYS, ARGV), shown as code",
    "logged out": "sync.js: the error field of a status, for the console, never written on the page",
    "python run.py --lab": "lab.js: the command that shortens the timers, shown as code in every language",
}
# A capitalised word, two words in a row, a word beside a ${} or a word ending a clause: what people
# read, rather than keys, selectors or URLs.
PROSE = re.compile(r"(?<![A-Za-z])[A-Z][a-z]{2,}|[A-Za-z]{2,}[ ,:;…]+[A-Za-z]{2,}|\$\{\} [A-Za-z]{2,}"
                   r"|[A-Za-z]{2,} \$\{\}|[A-Za-z]{2,}[,.:;!?…](\s|$)")
# Where a literal is not for the page: a log line or an internal error (inside the call), a selector,
# a class list.
NOT_FOR_PEOPLE = re.compile(r"(console\.\w+|Error)\([^()]*$|(querySelector(All)?|\$)\($"
                            r"|(class|className|classes):? =?\s*$")


def string_literals(source: str):
    """Yield (line number, text, the code before it on its line) of each string literal of a JS module,
    ${...} shown as ${}; comments and regular expression literals are skipped."""
    i, line, n = 0, 1, len(source)
    while i < n:
        c = source[i]
        if c == "\n":
            line += 1
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
            continue
        if source.startswith("/*", i):
            end = source.index("*/", i) + 2
            line += source.count("\n", i, end)
            i = end
            continue
        if c == "/" and re.search(r"[(,=:!&|?{};]\s*$|return\s*$|^\s*$", source[max(0, i - 20):i].split("\n")[-1]):
            match = re.compile(r"/(?:\\.|\[(?:\\.|[^\]])*\]|[^/\\\n])+/[a-z]*").match(source, i)
            if match:  # a regular expression literal
                i = match.end()
                continue
        if c in "'\"`":
            start_line, j, text = line, i + 1, []
            while source[j] != c:
                if source[j] == "\\":
                    text.append(source[j:j + 2])
                    j += 2
                    continue
                if c == "`" and source.startswith("${", j):
                    depth, j = 1, j + 2
                    while depth:
                        depth += {"{": 1, "}": -1}.get(source[j], 0)
                        j += 1
                    text.append("${}")
                    continue
                line += source[j] == "\n"
                text.append(source[j])
                j += 1
            yield start_line, "".join(text), source[source.rfind("\n", 0, i) + 1:i]
            i = j + 1
            continue
        i += 1


def test_no_page_module_has_an_english_sentence_outside_the_tables():
    found = []
    for path in sorted((WEB / "js").glob("*.js")):
        for number, text, before in string_literals(path.read_text(encoding="utf-8")):
            if text in ALLOWED or NOT_FOR_PEOPLE.search(before) or not PROSE.search(text):
                continue
            found.append(f"{path.name}:{number}: {text!r}")
    assert not found, "put these in web/js/lang/en.js and zh.js and use t(key):\n" + "\n".join(found)


def test_the_scan_finds_a_sentence_a_label_and_a_message_it_should():
    source = ("const a = 'Retry'; el('p', {class: 'msg mine', text: `${n} unread`}); // it's fine\n"
              "x = /'/g; console.warn('could not load it:', e); el('b', {title: `You have ${n} new messages.`});")
    found = [text for _, text, before in string_literals(source)
             if PROSE.search(text) and not NOT_FOR_PEOPLE.search(before)]
    assert found == ["Retry", "${} unread", "You have ${} new messages."]


class _PageText(HTMLParser):
    """Collect text and labels of an HTML page that name no key of the tables."""

    LABELS = ("title", "placeholder", "aria-label", "alt")

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.keys: set[str] = set()
        self.bare: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name == "data-i18n" or name.startswith("data-i18n-"):
                self.keys.add(value)
        for label in self.LABELS:
            if label in attrs and f"data-i18n-{label}" not in attrs and re.search(r"[^\W\d_]", attrs[label]):
                self.bare.append(f"<{tag} {label}={attrs[label]!r}>")
        if tag not in ("input", "meta", "link", "br", "img"):
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, text):
        if not re.search(r"[^\W\d_]", text) or any(tag in ("script", "style") for tag, _ in self.stack):
            return
        named = any("data-i18n" in attrs or attrs.get("translate") == "no" for _, attrs in self.stack)
        if not named:
            self.bare.append(repr(text.strip()))


@pytest.mark.parametrize("page", ["index.html", "inspect.html"])
def test_every_text_and_label_of_the_pages_names_a_key_of_both_tables(page, tables):
    parser = _PageText()
    parser.feed((WEB / page).read_text(encoding="utf-8"))
    assert not parser.bare, f"{page}: give these a data-i18n key: {parser.bare}"
    for code in ("en", "zh"):
        assert sorted(parser.keys - set(tables[code]["entries"])) == [], f"{page} names keys missing in {code}"


def test_style_sheets_write_no_words_of_their_own():
    for path in WEB.glob("*.css"):
        for text in re.findall(r"""content:\s*(["'][^"']*["'])""", path.read_text(encoding="utf-8")):
            assert not re.search(r"[^\W\d_]", text), f"{path.name}: content {text} (use attr() and a data-i18n- key)"
