"""The CJK font of the reports: WenQuanYi Micro Hei (Debian package ``fonts-wqy-microhei``).

The reports embed it (PDF), draw their charts with it (matplotlib) and name it for the slides
(PPTX). Found at run time: ``GRIDCOMMAND_CJK_FONT`` if set, else the Debian path, else wherever
fontconfig knows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from matplotlib.font_manager import FontProperties

from core.errors import InputError

#: Where Debian's fonts-wqy-microhei puts the font collection.
DEBIAN_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
#: The family name the slides ask for (Windows and macOS fall back to their own CJK font).
FAMILY = "WenQuanYi Micro Hei"
#: The name the PDF registers the font under.
PDF_NAME = "WQYMicroHei"
#: Environment variable naming another TrueType font (.ttf/.ttc) with CJK glyphs.
ENV_VARIABLE = "GRIDCOMMAND_CJK_FONT"


def _fontconfig_path() -> Path | None:
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(["fc-match", "-f", "%{file}", FAMILY], capture_output=True, text=True, check=False)
    path = Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None
    return path if path is not None and "wqy-microhei" in path.name.lower() else None


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """The font file to use.

    Raises
    ------
    core.errors.InputError
        No CJK font (one line naming the fix).
    """
    override = os.environ.get(ENV_VARIABLE)
    if override:
        if Path(override).is_file():
            return Path(override)
        raise InputError(ENV_VARIABLE, f"font file not found: {override}", "point it at a .ttf/.ttc file or unset it")
    if DEBIAN_PATH.is_file():
        return DEBIAN_PATH
    found = _fontconfig_path()
    if found is not None and found.is_file():
        return found
    raise InputError("CJK font", f"{DEBIAN_PATH.name} not found",
                     "install it: apt-get install fonts-wqy-microhei (or set GRIDCOMMAND_CJK_FONT to a .ttf/.ttc)")


def register_pdf_font() -> str:
    """Register the font with ReportLab (once); returns its name there."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if PDF_NAME not in pdfmetrics.getRegisteredFontNames():
        path = cjk_font_path()
        index = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
        pdfmetrics.registerFont(TTFont(PDF_NAME, str(path), **index))
    return PDF_NAME


def chart_font() -> FontProperties:
    """The font as matplotlib ``FontProperties`` (for titles, labels and legends)."""
    return FontProperties(fname=str(cjk_font_path()))
