"""Sign-in page: local accounts (default) and, when configured, single sign-on (OIDC).

Thin: the checks, lock-out and audit live in :mod:`access.accounts`, the session in
:mod:`views._auth`.
"""

from __future__ import annotations

import streamlit as st

from core.i18n import t
from views._auth import (
    NOTICE_KEY,
    oidc_configured,
    oidc_sign_in,
    oidc_user_key,
    sign_in,
)
from views._state import lang, settings

language = lang()
st.title(t("auth_title", language))

notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    st.info(t(f"auth_notice_{notice}", language))

with st.form("login_form", clear_on_submit=False):
    username = st.text_input(t("auth_username", language), key="login_username", max_chars=64)
    password = st.text_input(t("auth_password", language), type="password", key="login_password",
                             max_chars=256)
    submitted = st.form_submit_button(t("auth_submit", language), type="primary")

if submitted:
    if not username.strip() or not password:
        st.warning(t("auth_missing", language))
    else:
        try:
            result = sign_in(username, password)
        except Exception as exc:  # noqa: BLE001 - the store is down: say so in one line
            st.error(t("store_missing", language, error=str(exc).splitlines()[0][:200]))
            st.stop()
        if result.ok:
            st.rerun()
        elif result.reason == "locked":
            st.error(t("auth_locked", language, until=f"{result.locked_until:%H:%M}"))
        elif result.reason == "disabled":
            st.error(t("auth_disabled", language))
        else:
            message = t("auth_bad_credentials", language)
            if result.attempts_left is not None:
                message += " " + t("auth_attempts_left", language, left=result.attempts_left)
            st.error(message)

if oidc_configured():
    st.divider()
    if oidc_user_key():
        problem = oidc_sign_in()
        if problem is None:
            st.rerun()
        st.error(t(problem, language))
    elif st.button(t("auth_sso", language), key="login_sso", icon=":material/key:"):
        st.login()

current = settings()
st.caption(t("auth_timeout_hint", language, minutes=current.session_timeout_minutes,
             failures=current.lockout_failures, lock=current.lockout_minutes))
