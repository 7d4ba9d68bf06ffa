"""Streamlit's own widget texts in the UI language.

Streamlit draws a few texts of its own that no parameter sets: the file uploader's "Upload"
button and its size/type line, and the "Press Enter to apply" hint of text inputs. This style
sheet hides them and writes the i18n table's text in their place (CSS ``content``), so a page in
Chinese shows no English and the other way round. Placeholders of selects are set per widget.
"""

from __future__ import annotations

import streamlit as st

from core.i18n import t


def _css_string(text: str) -> str:
    """``text`` as a double-quoted CSS string (backslash, quote, angle brackets and line breaks
    escaped the CSS way, so it can neither end the string nor the style element)."""
    escaped = "".join(f"\\{ord(ch):x} " if ch in '\\"<>\n\r' else ch for ch in text)
    return f'"{escaped}"'


def widget_text_css(language: str) -> str:
    """The style sheet replacing Streamlit's built-in widget texts with ``language``'s."""
    button = _css_string(t("uploader_button", language))
    hint = _css_string(t("uploader_hint", language))
    return (
        "<style>"
        '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { display: none; }'
        f'[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after '
        f"{{ content: {button}; }}"
        '[data-testid="stFileUploaderDropzoneInstructions"] span { display: none; }'
        f'[data-testid="stFileUploaderDropzoneInstructions"] div::after {{ content: {hint}; font-size: 0.8rem; }}'
        '[data-testid="InputInstructions"] { display: none; }'
        "</style>"
    )


def localise_widgets(language: str) -> None:
    """Add the style sheet to the page (the router calls it once per run)."""
    st.html(widget_text_css(language))
