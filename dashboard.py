"""Grid Command (网格指挥台): the Streamlit entry point and page router.

Run with ``make run`` (or ``streamlit run dashboard.py``). The pages live in ``pages/``; this
file only sets up the page, the session state and the language toggle, then routes.
"""

from __future__ import annotations

import streamlit as st

from core.i18n import LANGUAGES, t
from pages._state import init_state, lang

st.set_page_config(page_title="网格指挥台 Grid Command", page_icon="🗺️", layout="wide")
init_state()
# Tighter top margin: the map is what the operators came for.
st.html("<style>.block-container { padding-top: 2.2rem; padding-bottom: 1rem; }</style>")

with st.sidebar:
    st.radio(
        t("language", lang()),
        options=list(LANGUAGES),
        horizontal=True,
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
        key="lang",
    )

language = lang()

# --- PAGES -------------------------------------------------------------------------------
# The page list. Each helper adds its own pages here (one line each); keep the order.
PAGES = [
    st.Page("pages/hierarchy_map.py", title=t("page_hierarchy", language), icon="🗺️",
            url_path="hierarchy", default=True),
]
# --- END PAGES ---------------------------------------------------------------------------

st.sidebar.caption(t("app_title", language))
st.navigation(PAGES).run()
