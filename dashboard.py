"""Grid Command (网格指挥台): the Streamlit entry point and page router.

Run with ``make run`` (or ``streamlit run dashboard.py``). The pages live in ``views/`` (not
``pages/``: Streamlit would auto-run files there outside the router); this file only sets up the
page, the session state and the language toggle, then routes.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.i18n import LANGUAGES, t
from views._auth import gate
from views._jobs import start_jobs
from views._state import init_state, lang
from views._widget_text import localise_widgets

# a local image: a Material icon as page_icon makes the browser fetch the favicon from Google Fonts
ICON = Path(__file__).resolve().parent / "static" / "gridcommand-icon.png"
st.set_page_config(page_title="网格指挥台 Grid Command", page_icon=str(ICON), layout="wide")
init_state()
start_jobs()  # escalation of overdue cases, once per process (make run turns it on)
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
localise_widgets(language)  # Streamlit's own widget texts (uploader, input hints) in the UI language

# --- PAGES -------------------------------------------------------------------------------
# The pages by their key in the permission table (access.policy.PAGES), in menu order; the gate
# below shows each role the pages the table lets it open.
PAGES = {
    "hierarchy": st.Page("views/hierarchy_map.py", title=t("page_hierarchy", language), icon=":material/map:",
                         url_path="hierarchy", default=True),
    "command": st.Page("views/command_map.py", title=t("page_map", language), icon=":material/emergency:",
                       url_path="command"),
    "desk": st.Page("views/desk.py", title=t("page_desk", language), icon=":material/assignment_ind:", url_path="desk"),
    "field": st.Page("views/field.py", title=t("page_field", language), icon=":material/smartphone:",
                     url_path="field"),
    "kpi": st.Page("views/kpi.py", title=t("page_kpi", language), icon=":material/leaderboard:", url_path="kpi"),
    "visits": st.Page("views/visits.py", title=t("page_visits", language), icon=":material/home_health:",
                      url_path="visits"),
    "briefing": st.Page("views/briefing.py", title=t("page_briefing", language), icon=":material/monitoring:",
                        url_path="briefing"),
    "audit-log": st.Page("views/audit.py", title=t("page_audit", language), icon=":material/policy:",
                         url_path="audit-log"),
}
# --- END PAGES ---------------------------------------------------------------------------

st.sidebar.caption(t("app_title", language))
# Sign-in gate: anonymous visitors get the sign-in page only; a signed-in account gets the
# pages its role may open (views/_auth.py).
gate(PAGES, language).run()
