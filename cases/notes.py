"""The texts the app composes into case events (notes, unrouted reasons, actors, the report event),
shown in the UI language.

Notes are stored as the app writes them (English, around what a person typed or an import named:
``"routed by rule 5 '其余事项…' to worker WG0093"``, ``"sent back by WG0019: 不属于本网格职责"``).
:func:`note_text` renders such a note in Chinese phrase by phrase (phrases are joined by ``"; "``);
a phrase it does not know (a person's own note) is shown as it is. English stays as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cases.actions import ACTIONS, REPORT_EVENT
from core import constants

#: Assignee kinds and escalation targets in Chinese.
KINDS_ZH: dict[str, str] = {"worker": "网格员", "chief": "网格长", "department": "部门", "team": "协办队伍",
                            "commander": "指挥中心"}
#: Actors the app itself names (``system:<job>``).
SYSTEM_ACTORS: dict[str, tuple[str, str]] = {"system:escalation": ("系统（超期升级）", "system (escalation)"),
                                             "system": ("系统", "system")}

_KIND = r"(?P<kind>worker|chief|department|team)"
_Rule = Callable[[re.Match[str]], str]


def _kind(kind: str) -> str:
    return KINDS_ZH.get(kind, kind)


def _rule(text: str) -> str:
    """``rule 5 'name'`` → ``规则5「name」`` anywhere in ``text``."""
    return re.sub(r"rule (\d+) '(.*?)'(?=$|[;)\s,])", r"规则\1「\2」", text)


def _target(text: str) -> str:
    """``commander`` / ``chief WG0199`` → 指挥中心 / 网格长 WG0199."""
    kind, _, ident = text.partition(" ")
    return f"{_kind(kind)} {ident}".strip() if kind in KINDS_ZH else text


def _satisfaction(match: re.Match[str]) -> str:
    rating = constants.SATISFACTION.get(match["rating"])
    return f"满意度：{rating.zh if rating else match['rating']}"


def _why(text: str) -> str:
    """A routing reason (:func:`cases.routing.route`) in Chinese, as far as it is known."""
    if "; fallback: " in text:
        first, _, second = text.partition("; fallback: ")
        return f"{_why(first)}；备选：{_why(second)}"
    tail = re.fullmatch(r"(?P<why>.+) \((?P<rule>rule \d+ '.*')\)", text)
    if tail:
        return f"{_why(tail['why'])}（{_rule(tail['rule'])}）"
    return _phrase(text, _REASONS)


#: Routing reasons (cases.routing, cases.theme_routing): English pattern → Chinese.
_REASONS: tuple[tuple[str, _Rule], ...] = (
    (r"rule \d+ '.*'", lambda m: _rule(m[0])),
    (r"location is outside every grid \(join status (?P<s>.+)\)", lambda m: f"位置不在任何网格内（落格状态 {m['s']}）"),
    (r"grid (?P<g>\S+) has no worker", lambda m: f"网格 {m['g']} 没有网格员"),
    (r"case has no community \(location outside the district\)", lambda m: "案件没有所属社区（位置在辖区外）"),
    (r"community (?P<c>\S+) has no chief", lambda m: f"社区 {m['c']} 没有网格长"),
    (r"department (?P<d>.+) is not in the store \(or inactive\)", lambda m: f"部门 {m['d']} 不存在或已停用"),
    (r"no routing rule matches \((?P<a>.*)\)", lambda m: f"没有匹配的派单规则（{m['a']}）"),
    (r"(?P<m>.+) is not admitted to grids \(网格事项准入\), (?P<r>rule \d+ '.*')",
     lambda m: f"{m['m']} 不属网格准入事项（网格事项准入），{_rule(m['r'])}"),
    (r"(?P<m>.+) is not admitted to grids and (?P<w>.+)", lambda m: f"{m['m']} 不属网格准入事项，且{_why(m['w'])}"),
    (r"the hierarchy holds no thematic layer '(?P<t>.+)'", lambda m: f"网格数据中没有专题图层 {m['t']}"),
    (r"location is in no (?P<t>\S+) cell", lambda m: f"位置不在任何 {m['t']} 专题网格内"),
    (r"(?P<t>\S+) cell (?P<c>\S+) has no owner", lambda m: f"{m['t']} 专题网格 {m['c']} 没有责任方"),
    (r"owner '(?P<o>.+)' of (?P<t>\S+) cell (?P<c>\S+) is neither an active department nor a worker",
     lambda m: f"{m['t']} 专题网格 {m['c']} 的责任方 {m['o']} 既不是在用部门也不是网格员"),
)

#: Event notes (cases.effects, cases.escalation, intake, api): English pattern → Chinese.
_NOTES: tuple[tuple[str, _Rule], ...] = (
    (r"imported from (?P<f>.+)", lambda m: f"由文件 {m['f']} 导入"),
    (rf"routed by (?P<why>.+) to {_KIND} (?P<id>\S+)", lambda m: f"{_why(m['why'])}，派给{_kind(m['kind'])} {m['id']}"),
    (r"unrouted: (?P<why>.+)", lambda m: f"未能派单：{_why(m['why'])}"),
    (rf"from (?P<k1>\w+) (?P<i1>\S+) to {_KIND} (?P<id>\S+?)(?: \((?P<r>.*)\))?",
     lambda m: f"由{_kind(m['k1'])} {m['i1']} 改派给{_kind(m['kind'])} {m['id']}"
     + (f"（{m['r']}）" if m["r"] else "")),
    (rf"to {_KIND} (?P<id>\S+)", lambda m: f"派给{_kind(m['kind'])} {m['id']}"),
    (rf"from {_KIND} (?P<id>\S+)", lambda m: f"退自{_kind(m['kind'])} {m['id']}"),
    (r"(?P<n>\d+) m from the case", lambda m: f"距案发位置 {m['n']} 米"),
    (r"satisfaction (?P<rating>\w+) \(.*\)", _satisfaction),
    (r"until (?P<d>\d{4}-\d\d-\d\d \d\d:\d\d)", lambda m: f"延期至 {m['d']}"),
    (r"new deadline (?P<d>\d{4}-\d\d-\d\d \d\d:\d\d)", lambda m: f"新的办结时限 {m['d']}"),
    (r"requested deadline (?P<d>\d{4}-\d\d-\d\d \d\d:\d\d) refused", lambda m: f"申请的时限 {m['d']} 未获批准"),
    (r"escalated(?: to (?P<to>.+))? \(level (?P<n>\d+)\)",
     lambda m: f"升级至{_target(m['to'])}（第 {m['n']} 级）" if m["to"] else f"升级（第 {m['n']} 级）"),
    (r"overdue (?P<h>[\d.]+) h", lambda m: f"超期 {m['h']} 小时"),
    (r"co-handler (?P<id>\S+)", lambda m: f"协办人 {m['id']}"),
    (r"reason: (?P<r>.*)", lambda m: f"原因：{m['r']}"),
    (r"reopened after a dissatisfied follow-up", lambda m: "回访不满意，重新办理"),
    (r"sent back by (?P<a>\S+): (?P<r>.*)", lambda m: f"{m['a']} 退单：{m['r']}"),
    (r"alarm of device (?P<d>.+)", lambda m: f"设备 {m['d']} 告警"),
    (r"received by the API \((?P<k>[^,]+), channel (?P<c>.+)\)", lambda m: f"经接口接收（{m['k']}，渠道 {m['c']}）"),
)


def _phrase(text: str, table: tuple[tuple[str, _Rule], ...]) -> str:
    for pattern, render in table:
        match = re.fullmatch(pattern, text, flags=re.DOTALL)
        if match:
            return render(match)
    return text


def note_text(note: str | None, lang: str) -> str:
    """An event note or unrouted reason in ``lang`` (``zh``: each ``"; "``-separated phrase the app
    composes, in Chinese; other text as it is). None and NaN give ``""``."""
    if not isinstance(note, str) or not note:
        return ""
    if lang != "zh":
        return note
    if note.startswith("unrouted: ") or "; fallback: " in note:
        return _phrase(note, _NOTES) if note.startswith("unrouted: ") else _why(note)
    phrases = note.split("; ")
    out = [_phrase(p, _NOTES) for p in phrases]
    if out == phrases:  # nothing known phrase by phrase: perhaps one routing reason as a whole
        return _why(note)
    return "；".join(out)


def actor_text(actor: str | None, lang: str) -> str:
    """An event's actor: a user name as it is, ``system:<job>`` in ``lang``."""
    if not isinstance(actor, str):
        return ""
    zh, en = SYSTEM_ACTORS.get(actor, (actor, actor))
    return zh if lang == "zh" else en


def event_label(action: str, lang: str) -> str:
    """The label of an event's action (the action table's text; 上报 for the report event)."""
    if action == REPORT_EVENT:
        return "上报" if lang == "zh" else "Reported"
    return ACTIONS[action].text(lang) if action in ACTIONS else action
