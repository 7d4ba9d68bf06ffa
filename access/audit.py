"""The append-only audit log: one writer (:func:`record`) and one admin-only reader (:func:`search`).

There is deliberately no update or delete function, and the store's triggers refuse UPDATE and
DELETE on ``audit_log`` (see migration ``0002_people``). Entries never hold personal data in
clear: an unmask entry names the record and the field, not the value.

Case transitions are written by the lifecycle to ``case_events`` (the case's own trail);
:func:`search` merges them into its results as ``case:<action>`` entries, so the admin sees
one log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.policy import POLICY
from access.scope import Scope
from core.constants import Label
from store.models import AuditEntry

#: Audit actions written by this package (case transitions appear as ``case:<action>``).
ACTIONS: dict[str, Label] = {label.key: label for label in (
    Label("api_request", "接口请求", "API request"),
    Label("api_refused", "接口拒绝", "API request refused"),
    Label("api_key_add", "新增接口密钥", "API key added"),
    Label("api_key_revoke", "吊销接口密钥", "API key revoked"),
    Label("api_device_add", "登记设备", "Device registered"),
    Label("api_device_remove", "停用设备", "Device removed"),
    Label("note", "填写人员备注", "Note on a person"),
    Label("assign_worker", "指定责任网格员", "Responsible worker set"),
    Label("sign_in", "登录成功", "Signed in"),
    Label("sign_in_failed", "登录失败", "Sign-in failed"),
    Label("sign_in_locked", "账号锁定中登录", "Sign-in while locked"),
    Label("account_locked", "账号被锁定", "Account locked"),
    Label("sign_out", "退出登录", "Signed out"),
    Label("session_expired", "会话超时", "Session expired"),
    Label("user_add", "新增账号", "Account added"),
    Label("user_disable", "停用账号", "Account disabled"),
    Label("user_enable", "启用账号", "Account enabled"),
    Label("password_reset", "重置密码", "Password reset"),
    Label("password_rehash", "更新密码哈希", "Password hash renewed"),
    Label("unmask", "查看明文个人信息", "Personal data unmasked"),
    Label("unmask_denied", "查看明文被拒绝", "Unmasking refused"),
    Label("export", "导出数据", "Export"),
    Label("import", "导入数据", "Import"),
    Label("visit", "登记走访", "Visit recorded"),
)}
#: Kinds of audited objects (``target_kind``).
TARGET_KINDS: dict[str, Label] = {label.key: label for label in (
    Label("user", "账号", "account"), Label("case", "案件", "case"), Label("household", "走访对象", "person"),
    Label("cases", "案件表", "cases"), Label("households", "走访对象表", "persons"),
    Label("visits", "走访记录", "visits"), Label("tracks", "巡查轨迹", "tracks"), Label("file", "文件", "file"),
    Label("api", "接口", "API"), Label("registry", "走访名册", "registry"),
)}
#: Keys of an entry's ``detail`` in Chinese (other keys are shown as they are).
DETAIL_KEYS_ZH: dict[str, str] = {
    "file": "文件", "rows": "行数", "added": "新增", "rejected": "拒绝", "updated": "更新", "moved": "迁移",
    "duplicates": "重复", "unrouted": "未派单", "fields": "字段", "field": "字段", "reason": "原因", "role": "角色",
    "count": "条数", "format": "格式", "channel": "渠道", "status": "状态", "path": "路径", "method": "方法",
    "case_id": "案件编号", "from": "原值", "to": "新值", "note": "说明", "kind": "类型", "key_id": "密钥编号",
    "locked_until": "锁定至", "failed_attempts": "失败次数", "worker_id": "网格员工号", "since": "起始",
    "rate_per_minute": "每分钟限额", "position": "位置", "on_site": "到户", "on": "日期", "lon": "经度",
    "lat": "纬度", "category": "类别", "distance_m": "距离(米)", "chars": "字数", "area_codes": "辖区",
    "allow": "权限",
}
#: Intake channels (``intake.submit``) in Chinese; an API key's channel is its owner's name, kept.
CHANNELS_ZH: dict[str, str] = {"file": "文件导入", "api": "接口", "seed": "演示数据"}


def action_text(action: str, lang: str) -> str:
    """An audit action of :data:`ACTIONS` in ``lang`` (others, e.g. ``case:<action>``, as they are)."""
    label = ACTIONS.get(action)
    return label.text(lang) if label else action


def target_kind_text(kind: str | None, lang: str) -> str:
    """A ``target_kind`` in ``lang`` (unknown kinds as they are)."""
    label = TARGET_KINDS.get(kind or "")
    return label.text(lang) if label else (kind or "")


def detail_text(detail: dict[str, Any] | None, lang: str) -> str:
    """An entry's ``detail`` as ``key: value`` pairs, keys in ``lang`` where known."""
    if not detail:
        return ""
    def shown(key: str, value: Any) -> object:
        if value is None or value == "":
            return "—"
        if key == "role" and value in POLICY:
            role = POLICY[value]
            return role.zh if lang == "zh" else role.en
        return CHANNELS_ZH.get(value, value) if key == "channel" and lang == "zh" else value

    if lang == "zh":
        return "；".join(f"{DETAIL_KEYS_ZH.get(k, k)}：{shown(k, v)}" for k, v in detail.items())
    return "; ".join(f"{k}: {shown(k, v)}" for k, v in detail.items())


_TEXT_LIMITS = {"actor": 64, "action": 32, "target_kind": 32, "target_id": 64, "ip": 64}


def _clip(name: str, value: object) -> str | None:
    if value is None:
        return None
    return str(value)[: _TEXT_LIMITS[name]]


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    at: datetime,
    target_kind: str | None = None,
    target_id: object = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry to the audit log (flushed, committed with the caller's transaction).

    Parameters
    ----------
    session : Session
        An open session; the entry is committed or rolled back with the caller's work, so an
        action and its audit entry succeed or fail together.
    actor : str
        The user name (or ``cli:<os user>``, ``system``).
    action : str
        A key of :data:`ACTIONS` or ``case:<transition>``.
    at : datetime
        Local time of the action.
    target_kind, target_id : str, optional
        What was acted on: ``user``, ``case``, ``household``, ``visit``, ``track``, ``file``.
    detail : dict, optional
        JSON-serialisable details (never personal data in clear).
    ip : str, optional
        The client's address when known.

    Returns
    -------
    AuditEntry
    """
    entry = AuditEntry(
        at=at,
        actor=_clip("actor", actor) or "unknown",
        action=_clip("action", action) or "unknown",
        target_kind=_clip("target_kind", target_kind),
        target_id=_clip("target_id", target_id),
        detail=detail or None,
        ip=_clip("ip", ip),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditRow:
    """One row of :func:`search`: an audit-log entry or a case event."""

    at: datetime
    actor: str
    action: str
    target_kind: str | None
    target_id: str | None
    detail: dict[str, Any] | None
    ip: str | None
    source: str  # "audit_log" or "case_events"


def search(
    session: Session,
    scope: Scope,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    include_case_events: bool = True,
    limit: int = 500,
) -> list[AuditRow]:
    """Search the audit log (admin only), newest first.

    Parameters
    ----------
    session : Session
    scope : Scope
        The caller; must have the ``read_audit`` permission (role ``admin``).
    actor, action, target_kind, target_id : str, optional
        Exact matches; ``action`` may be ``case:<transition>`` or ``case:`` for every case event.
    since, until : datetime, optional
        Half-open time window ``[since, until)``.
    include_case_events : bool
        Merge the case transitions from ``case_events`` (target kind ``case``).
    limit : int
        Most rows returned (1 to 10,000).

    Returns
    -------
    list of AuditRow

    Raises
    ------
    core.errors.PermissionDenied
        For any role but ``admin``.
    """
    scope.require("read_audit")
    limit = max(1, min(int(limit), 10_000))
    rows: list[AuditRow] = []
    if not (action or "").startswith("case:"):
        query = select(AuditEntry)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if action:
            query = query.where(AuditEntry.action == action)
        if target_kind:
            query = query.where(AuditEntry.target_kind == target_kind)
        if target_id:
            query = query.where(AuditEntry.target_id == str(target_id))
        if since:
            query = query.where(AuditEntry.at >= since)
        if until:
            query = query.where(AuditEntry.at < until)
        query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        rows.extend(
            AuditRow(e.at, e.actor, e.action, e.target_kind, e.target_id, e.detail, e.ip, "audit_log")
            for e in session.scalars(query)
        )
    case_wanted = include_case_events and target_kind in (None, "", "case") and (
        not action or action.startswith("case:")
    )
    if case_wanted:
        rows.extend(_case_events(session, actor=actor, action=action, target_id=target_id,
                                 since=since, until=until, limit=limit))
    rows.sort(key=lambda r: r.at, reverse=True)
    return rows[:limit]


def _case_events(
    session: Session,
    *,
    actor: str | None,
    action: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[AuditRow]:
    from store.models import CaseEvent

    query = select(CaseEvent)
    if actor:
        query = query.where(CaseEvent.actor == actor)
    if action and action != "case:":
        query = query.where(CaseEvent.action == action.removeprefix("case:"))
    if target_id:
        try:
            query = query.where(CaseEvent.case_id == int(target_id))
        except ValueError:
            return []
    if since:
        query = query.where(CaseEvent.at >= since)
    if until:
        query = query.where(CaseEvent.at < until)
    query = query.order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(limit)
    return [
        AuditRow(
            at=e.at,
            actor=e.actor,
            action=f"case:{e.action}",
            target_kind="case",
            target_id=str(e.case_id),
            detail={"from": e.from_state, "to": e.to_state, **({"note": e.note} if e.note else {})},
            ip=None,
            source="case_events",
        )
        for e in session.scalars(query)
    ]
