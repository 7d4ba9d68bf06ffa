"""Session state: every key the pages use is initialised here, once per session.

Pages read ``st.session_state`` through these helpers and never invent keys of their own.
"""

from __future__ import annotations

import streamlit as st

from core.i18n import LANGUAGES
from core.settings import Settings, load_settings

#: Session keys and their defaults (the language default comes from the settings).
DEFAULTS: dict[str, object] = {
    "lang": None,  # "zh" | "en"; set from settings.language
    "wall_mode": False,  # full-screen wall layout of the command map
    "selected_grid": None,  # grid code clicked on the command map
    "selected_case": None,  # case id clicked on the command map
    "seen_emergencies": None,  # ids of emergencies already announced (set)
    "emergencies_primed": False,  # the first look at the emergencies was taken (no alert for those)
    "last_click": None,  # (tooltip, latlng) of the map click already handled
    "field_case": None,  # case id opened on the worker's phone page
    "action_flash": None,  # what the last desk dispatch or decision did, shown once after its rerun
    "case_flash": None,  # what the last case action did: (case id, texts, shown until monotonic s)
    "case_list_ids": None,  # case ids of the command map's list rows, in order (the selection maps to them)
}


@st.cache_resource
def _settings() -> Settings:
    return load_settings()


def settings() -> Settings:
    """The project settings (read once per server process)."""
    return _settings()


#: Set by :func:`init_state`, which only the router (dashboard.py) calls.
ROUTER_KEY = "routed"


def init_state() -> None:
    """Set every session key that is not set yet (called by the router, dashboard.py)."""
    st.session_state[ROUTER_KEY] = True
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            if key == "lang":
                value = settings().language if settings().language in LANGUAGES else "zh"
            elif key == "seen_emergencies":
                value = set()
            st.session_state[key] = value


def lang() -> str:
    """The UI language of this session (``zh`` or ``en``)."""
    value = st.session_state.get("lang") or "zh"
    return value if value in LANGUAGES else "zh"
