"""A minimal dashboard for the big-screen tests: the real sign-in gate and the real briefing page.

Stands in for ``dashboard.py`` until the router lists the page; the permission table gets the page
key ``briefing`` for leader, commander and admin here when it does not have it yet (the lead's line
in ``access/policy.py``).
"""

from dataclasses import replace
from pathlib import Path

import streamlit as st
from PIL import Image

from access import policy
from views._auth import gate
from views._state import init_state, lang

PAGES_DIR = Path(__file__).resolve().parents[2] / "views"
BRIEFING_ROLES = ("admin", "commander", "leader")

for role in BRIEFING_ROLES:
    if "briefing" not in policy.POLICY[role].pages:
        policy.POLICY[role] = replace(policy.POLICY[role], pages=policy.POLICY[role].pages | {"briefing"})



def home() -> None:
    st.title("home")


# a local icon: without one Streamlit takes the sign-in page's material icon from the internet
st.set_page_config(page_title="网格指挥台 Grid Command", page_icon=Image.new("RGB", (32, 32), "#1f3a5f"), layout="wide")
init_state()
PAGES = {  # keys of the permission table: "home" stands in for the other pages (the menu needs two)
    "briefing": st.Page(PAGES_DIR / "briefing.py", title="领导驾驶舱", url_path="briefing", default=True),
    "hierarchy": st.Page(home, title="Home", url_path="home"),
}
gate(PAGES, lang()).run()
