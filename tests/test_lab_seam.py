"""The lab installs itself at one seam (web/js/wire.js): the transports, the API client, the outbox and the
sync loop never import the lab's modules or touch its switches, so without the lab they are what they are
with it, and every fault is carried out in the lab's own modules."""
import re
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent.parent / "web" / "js"
THE_WAY_OF_A_MESSAGE = ["socket.js", "transports.js", "outbox.js", "api.js", "sync.js", "wire.js"]


def code_lines(path: Path) -> list[str]:
    """The lines of a module that are code, not its comments' prose."""
    return [line for line in path.read_text(encoding="utf-8").splitlines()
            if not re.match(r"\s*(/\*\*|\*|//)", line)]


@pytest.mark.parametrize("module", THE_WAY_OF_A_MESSAGE)
def test_the_way_of_a_message_knows_nothing_of_the_lab(module):
    found = [line for line in code_lines(JS / module)
             if re.search(r"from '\./(lab|timeline)[\w-]*\.js'|\blab\.(faults|observe)|\btake\('", line)]
    assert found == [], f"{module} reaches into the lab: {found}"


def test_only_the_lab_taps_the_wire():
    tapping = sorted(path.name for path in JS.glob("*.js") if any(".tap(" in line for line in code_lines(path)))
    assert tapping == ["lab.js"]
