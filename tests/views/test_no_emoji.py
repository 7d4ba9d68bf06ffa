"""No emoji anywhere the user reads: government PCs often have no emoji font and show empty boxes.

Grades are coloured badges with a word (views._grades); icons are Streamlit's bundled Material
symbols. This scans every module that produces UI text, HTML or reports.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Emoji and pictograph blocks (variation selectors included).
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")
UI_SOURCES = ("dashboard.py", "views", "layers", "reports", "core")


def test_no_emoji_in_any_ui_source() -> None:
    files = [p for name in UI_SOURCES for p in ([ROOT / name] if name.endswith(".py") else
                                                (ROOT / name).rglob("*")) if p.suffix in (".py", ".html", ".css")]
    assert len(files) > 20
    found = [f"{p.relative_to(ROOT)}:{n}" for p in files
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if EMOJI.search(line)]
    assert found == []
