"""The course map in two languages: docs/COURSE.md and docs/COURSE.zh-CN.md list the same sections, in
the same order, pointing at the same code, so one cannot drift from the other silently."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAPS = {"en": ROOT / "docs" / "COURSE.md", "zh": ROOT / "docs" / "COURSE.zh-CN.md"}
CODE_BULLET = {"en": "- Code:", "zh": "- 代码："}


def sections(path: Path) -> list[tuple[int, str]]:
    """Return (number, text) of each '## N. title' section."""
    parts = re.split(r"^## (\d+)\. ", path.read_text(encoding="utf-8"), flags=re.M)
    return [(int(number), text) for number, text in zip(parts[1::2], parts[2::2], strict=True)]


def spans(text: str) -> list[str]:
    """The `code` spans of text, in order, with line breaks inside a span read as one space."""
    return [re.sub(r"\s+", " ", span).strip() for span in re.findall(r"`([^`]+)`", text)]


def code_pointers(text: str, language: str) -> list[str]:
    bullet = re.search(rf"^{re.escape(CODE_BULLET[language])}(.*?)(?=^- |\Z)", text, flags=re.M | re.S)
    assert bullet, f"a section of the {language} map has no {CODE_BULLET[language]!r} bullet"
    return spans(bullet[1])


@pytest.fixture(scope="module")
def maps() -> dict:
    return {language: sections(path) for language, path in MAPS.items()}


def test_both_maps_have_the_same_numbered_sections_in_order(maps):
    numbers = {language: [number for number, _ in found] for language, found in maps.items()}
    assert numbers["en"] == list(range(1, len(numbers["en"]) + 1)) and len(numbers["en"]) >= 9
    assert numbers["zh"] == numbers["en"]


def test_each_section_points_at_the_same_code_and_names_the_same_things(maps):
    for (number, english), (_, chinese) in zip(maps["en"], maps["zh"], strict=True):
        assert code_pointers(chinese, "zh") == code_pointers(english, "en"), f"section {number}: Code"
        assert set(spans(chinese)) == set(spans(english)), f"section {number}: `code` spans"
        images = [re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text) for text in (english, chinese)]
        assert images[0] == images[1], f"section {number}: pictures"


def test_the_maps_link_to_each_other_and_the_readme_links_both():
    assert "(COURSE.zh-CN.md)" in MAPS["en"].read_text(encoding="utf-8")
    assert "(COURSE.md)" in MAPS["zh"].read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/COURSE.md)" in readme and "(docs/COURSE.zh-CN.md)" in readme
