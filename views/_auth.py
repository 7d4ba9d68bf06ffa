"""Sign-in state of the dashboard: who is signed in, their scope, the session timeout, the gate.

The rules live in :mod:`access.signin` (sign-in, browser sessions, single sign-on, audit),
:mod:`access.accounts` and :mod:`access.policy`; this module only keeps the signed-in account in
``st.session_state["auth"]`` and wires it to the router:

- :func:`gate` returns the ``st.navigation`` the dashboard runs: the sign-in page alone for an
  anonymous visitor, else the pages the role may open (``access.policy``) with a sign-out
  button in the sidebar;
- :func:`current_user` / :func:`require_role` / :func:`current_scope` are what pages call.

``st.session_state["auth"]`` is ``{"user": SignedIn-as-dict, "last_activity": datetime}``; page
tests may set it directly before ``AppTest.run()`` to act as a signed-in account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from access import policy, signin, web_sessions
from access.accounts import SignIn, is_session_expired
from access.database import open_store, unit_of_work
from access.scope import Scope
from access.unmask import unmask
from core import clock
from core.errors import GridCommandError
from core.i18n import t
from core.settings import Settings, load_settings

SESSION_KEY = "auth"
#: The signed-in account's :class:`~access.scope.Scope`, kept in step for ``views._state``.
SCOPE_KEY = "scope"
#: Message shown once on the sign-in page (session expired, signed out).
NOTICE_KEY = "auth_notice"
#: The cookie that lets a reloaded page resume the session (:mod:`access.web_sessions`).
COOKIE_NAME = "gc_session"
#: A cookie change waiting to be sent to the browser: ``("set", token)`` or ``("clear", "")``.
COOKIE_KEY = "auth_cookie"
@dataclass(frozen=True)
class SignedIn:
    """The signed-in account as the pages see it (no password hash)."""

    username: str
    display_name: str
    role: str
    area_codes: str = ""
    worker_id: str | None = None
    id: int | None = None
    method: str = "password"

    @property
    def scope(self) -> Scope:
        """The account's :class:`~access.scope.Scope`."""
        return Scope.for_user(self)


# -- store --------------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def engine_for(url: str) -> Engine:
    """The one engine of the store at ``url`` in this server process (migrated once): every page
    shares its connection pool (core/pool.py sizes it for a cluster)."""
    return open_store(url)


def store_engine() -> Engine:
    """The case store's engine (migrated once per server process and URL)."""
    return engine_for(load_settings().database_url)


def _settings() -> Settings:
    return load_settings()


def client_ip() -> str | None:
    """The browser's address as Streamlit sees it, when known."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - not available in bare/AppTest runs
        return None
    return address if isinstance(address, str) else None


def _now() -> datetime:
    return clock.now()


# -- session ------------------------------------------------------------------------------------
def _state() -> dict[str, Any] | None:
    value = st.session_state.get(SESSION_KEY)
    return value if isinstance(value, dict) and isinstance(value.get("user"), dict) else None


def _end(notice: str | None, action: str | None) -> None:
    state = _state()
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(SCOPE_KEY, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice
    st.session_state[COOKIE_KEY] = ("clear", "")
    if state:
        signin.end(store_engine(), state.get("token"), _now(), username=state["user"]["username"], action=action,
                   ip=client_ip())


def _cookie_token() -> str | None:
    """The session token the browser sent with this connection, if any."""
    try:
        token = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no browser connection (bare or AppTest runs)
        return None
    return token if isinstance(token, str) and _TOKEN.fullmatch(token) else None


def _resume() -> dict[str, Any] | None:
    """Sign the browser back in from its session cookie (a reloaded page), when still valid."""
    token = _cookie_token()
    if not token or st.session_state.get(COOKIE_KEY) == ("clear", ""):
        return None
    user = signin.resume(store_engine(), token, now=_now(), settings=_settings(), ip=client_ip())
    if user is None:
        st.session_state[COOKIE_KEY] = ("clear", "")
        return None
    start_session(user, method="password", token=token)
    st.session_state.pop(COOKIE_KEY, None)  # the browser already holds this cookie
    return _state()


def _touch(state: dict[str, Any], now: datetime) -> None:
    """Tell the store this browser is active (at most every ``web_sessions.TOUCH_EVERY``), so a
    reload after a long but busy shift still resumes."""
    touched = state.get("touched")
    if state.get("token") and (not isinstance(touched, datetime) or now - touched >= web_sessions.TOUCH_EVERY):
        signin.touch(store_engine(), state["token"], now)
        state["touched"] = now


def _still_enabled(user: dict[str, Any]) -> bool:
    """False when the account has been disabled since it signed in."""
    return signin.still_enabled(store_engine(), user["username"])


def current_user() -> SignedIn | None:
    """The signed-in account, or None (also after the session timed out or the account was
    disabled; the sign-in page then says why). Each call counts as activity."""
    state = _state() or _resume()
    if state is None:
        return None
    now = _now()
    last = state.get("last_activity")
    if not isinstance(last, datetime) or is_session_expired(last, now, _settings()):
        _end("session_expired", "session_expired")
        return None
    if not _still_enabled(state["user"]):
        _end("account_disabled", "sign_out")
        return None
    state["last_activity"] = now
    _touch(state, now)
    fields = SignedIn.__dataclass_fields__
    user = SignedIn(**{k: v for k, v in state["user"].items() if k in fields})
    st.session_state[SCOPE_KEY] = user.scope  # what views._state.current_scope() hands the pages
    return user


def current_scope() -> Scope | None:
    """The signed-in account's scope, or None."""
    user = current_user()
    return user.scope if user else None


def require_page(page: str) -> SignedIn:
    """The signed-in account if the permission table lets its role open ``page`` (a URL path of
    ``access.policy.PAGES``); otherwise an error message and ``st.stop()``.

    Every page calls this first: a page file can be reached without the router (a stale link or a
    test harness), and then only its own check protects it.
    """
    user = current_user()
    if user is None:
        st.error(t("auth_sign_in_first", _lang()))
        st.stop()
    if not policy.may_open(user.role, page):
        st.error(t("auth_forbidden", _lang()))
        st.stop()
    return user


def _lang() -> str:
    try:
        from views._state import lang

        return lang()
    except Exception:  # noqa: BLE001 - called outside a Streamlit page (bare or AppTest runs)
        return "zh"


def start_session(user: Any, *, method: str = "password", token: str | None = None) -> SignedIn:
    """Keep ``user`` (an account of ``access.accounts``) as the signed-in account of this session;
    ``token`` is its browser session (:mod:`access.web_sessions`), sent as a cookie by :func:`gate`."""
    signed = SignedIn(username=user.username, display_name=user.display_name or user.username, role=user.role,
                      area_codes=user.area_codes or "", worker_id=user.worker_id, id=user.id, method=method)
    st.session_state[SESSION_KEY] = {"user": asdict(signed), "last_activity": _now(), "token": token,
                                     "touched": _now()}
    st.session_state.pop(NOTICE_KEY, None)
    if token:
        st.session_state[COOKIE_KEY] = ("set", token)
    return signed


def sign_in(username: str, password: str) -> SignIn:
    """Check a sign-in (audited, lock-out counted) and start the session on success."""
    attempt = signin.password(store_engine(), username, password, now=_now(), settings=_settings(), ip=client_ip())
    if attempt.result.ok:
        start_session(attempt.result.user, token=attempt.token)
    return attempt.result


def sign_out() -> None:
    """End the session (audited) and leave the OIDC session too when there is one."""
    method = (_state() or {}).get("user", {}).get("method")
    _end("signed_out", "sign_out")
    if method == "oidc" and oidc_configured():
        st.logout()


# -- unmasking one field --------------------------------------------------------------------------
def unmask_control(kind: str, record_id: object, field: str, masked_value: str | None, *, label: str,
                   key: str) -> None:
    """Show ``masked_value`` with a button that reveals the clear value to a permitted caller.

    The reveal goes through :func:`access.unmask.unmask` (permission per record, audit entry) and
    lasts for this render only. Values are shown with ``st.text`` (never as Markdown or HTML).

    Parameters
    ----------
    kind : str
        ``case`` or ``household``.
    record_id : object
        The case id or household id.
    field : str
        The personal field (``reporter_phone``, ``head_name``, ``id_number``, ...).
    masked_value : str or None
        What the list showed.
    label : str
        The field's label.
    key : str
        A widget key unique on the page.
    """
    user = current_user()
    shown = masked_value if masked_value not in (None, "") else "—"
    left, right = st.columns([3, 1])
    left.text(f"{label}: {shown}")
    if user is None or not user.scope.can("unmask") or masked_value in (None, ""):
        return
    if right.button(t("unmask_button", _lang()), key=key, icon=":material/visibility:"):
        try:
            with unit_of_work(store_engine()) as session:
                value = unmask(session, user.scope, kind, record_id, field, now=_now(), ip=client_ip())
        except GridCommandError as exc:
            st.error(str(exc))
            return
        left.text(f"{label}: {value if value else '—'}")
        st.caption(t("unmask_logged", _lang()))


# -- single sign-on (optional) ------------------------------------------------------------------
def oidc_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` configures ``[auth]`` for ``st.login`` (OIDC)."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False
    return isinstance(auth, Mapping) and bool(auth.get("redirect_uri")) and bool(auth.get("cookie_secret"))


def oidc_user_key() -> str | None:
    """The identity provider's user name (preferred_username, else email) when signed in by OIDC."""
    try:
        if not st.user.is_logged_in:
            return None
        key = st.user.get("preferred_username") or st.user.get("email")
    except Exception:  # noqa: BLE001 - no identity provider configured
        return None
    return key if isinstance(key, str) and key else None


def oidc_sign_in() -> str | None:
    """Map an OIDC identity onto the local account of the same name (roles stay local).

    Returns None on success, else the i18n key of the reason (no such account, disabled).
    """
    key = oidc_user_key()
    if not key:
        return "auth_bad_credentials"
    user, reason = signin.single_sign_on(store_engine(), str(key), now=_now(), ip=client_ip())
    if user is None:
        return f"auth_{reason}"
    start_session(user, method="oidc")
    return None


def _send_cookie() -> None:
    """Write a pending cookie change into the browser (the token is URL-safe base64: no quoting
    needed). Strict same-site, path /, lifetime of the idle timeout; Secure over HTTPS."""
    pending = st.session_state.pop(COOKIE_KEY, None)
    if not pending:
        return
    action, token = pending
    if action == "set" and not _TOKEN.fullmatch(token):
        return
    max_age = 60 * int(_settings().session_timeout_minutes) if action == "set" else 0
    value = token if action == "set" else ""
    st.html(
        "<script>(function(){var secure = location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = '{COOKIE_NAME}={value}; Path=/; Max-Age={max_age}; SameSite=Strict' + secure;"
        "})();</script>",
        unsafe_allow_javascript=True,
    )


_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")


def md_escape(text: str) -> str:
    """``text`` with Markdown's special characters escaped (Streamlit never renders raw HTML
    here, but a name must not turn into a link or formatting either)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|~:$" else ch for ch in str(text))


# -- router ---------------------------------------------------------------------------------------
def gate(pages: Mapping[str, Any], language: str) -> Any:
    """The navigation to run: the sign-in page for anonymous visitors, else ``pages`` filtered
    by the role (``access.policy``), with the account and a sign-out button in the sidebar.

    Parameters
    ----------
    pages : mapping of str to st.Page
        Every page of the dashboard by its key in ``access.policy.PAGES``, in menu order.
    language : str
        ``zh`` or ``en``.

    Returns
    -------
    StreamlitPage
        What ``st.navigation`` returned; call ``.run()`` on it.
    """
    user = current_user()
    _send_cookie()
    if user is None:
        login = st.Page(Path(__file__).with_name("login.py"), title=t("page_login", language),
                        icon=":material/login:", url_path="sign-in", default=True)
        return st.navigation([login], position="hidden")
    visible = [page for key, page in pages.items() if policy.may_open(user.role, key)]
    with st.sidebar:
        st.caption(t("auth_signed_in_as", language, name=md_escape(user.display_name),
                     role=policy.ROLES[user.role].text(language)))
        if st.button(t("auth_sign_out", language), key="auth_sign_out", icon=":material/logout:"):
            sign_out()
            st.rerun()
    return st.navigation(visible)
