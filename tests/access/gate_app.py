"""A minimal dashboard for the sign-in tests: the real gate, the real sign-in and audit pages,
and one plain page standing in for the others (``dashboard.py`` wires the same calls)."""

from pathlib import Path

import streamlit as st

from views._auth import current_user, gate, unmask_control
from views._state import init_state, lang

PAGES_DIR = Path(__file__).resolve().parents[2] / "views"


def home() -> None:
    user = current_user()
    st.title("home")
    st.write(f"scope:{user.role}:{','.join(sorted(user.scope.area_codes))}")
    for hid, masked in st.session_state.get("test_households", []):
        unmask_control("household", hid, "phone", masked, label=f"phone {hid}", key=f"unmask_{hid}")


init_state()
PAGES = {  # keys of the permission table: "home" stands in for the hierarchy page
    "hierarchy": st.Page(home, title="Home", url_path="home", default=True),
    "audit-log": st.Page(PAGES_DIR / "audit.py", title="Audit", url_path="audit-log"),
}
gate(PAGES, lang()).run()
