"""Suggested assignees for the chief's desk, each with its reason.

For each case, in this order:

1. when the routing rule that applies names a department or the chief, what the rules decide,
   reason ``rules``;
2. when it names the grid's worker but the matter is not on the grid admission list (网格事项准入),
   the list's department, reason ``not_admitted``;
3. the grid's own worker (一格一人), unless absent (no active worker) or overloaded (more open
   cases than ``overload_ratio`` × the mean over grid workers), reason ``own_worker``;
4. else the least-loaded worker of the neighbouring grids within ``neighbour_m`` metres (nearest
   first on ties) whom the dispatcher may assign, reason ``neighbour`` (naming why the own worker
   was passed over);
5. else the rule's fallback, reason ``rules``; or nobody, reason ``none`` (the routing reason says
   why).

Suggestions for many cases are made in order, each counting the ones before it, so a batch does
not pile up on one worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.scope import Scope
from cases.routing import Directory, RuleSet, load_directory, matching_rule, route
from core.constants import OPEN_STATES, OVERLOAD_RATIO
from store.models import Case

#: Reason keys of a suggestion (the desk shows them through the UI text table).
REASONS: tuple[str, ...] = ("own_worker", "neighbour", "not_admitted", "rules", "none")


@dataclass(frozen=True)
class Suggestion:
    """The suggested assignee of one case (both None: nobody) and why.

    ``detail`` holds the values the reason's message names: ``worker``, ``grid``, ``open``,
    ``own``, ``own_open``, ``passed_over`` (``absent`` or ``overloaded``), ``matter``, ``routing``.
    """

    case_id: int
    assignee_kind: str | None
    assignee_id: str | None
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        """``"<kind>:<id>"`` as the assignee picker writes it, or None."""
        return f"{self.assignee_kind}:{self.assignee_id}" if self.assignee_id else None


@dataclass
class Context:
    """What suggestions are made from: rules, who works where, open cases per worker, neighbours."""

    scope: Scope
    rules: RuleSet
    directory: Directory
    loads: dict[str, int]
    neighbours: Mapping[str, list[str]]
    overload_ratio: float = OVERLOAD_RATIO

    @property
    def limit(self) -> float:
        """Open cases above which a grid worker counts as overloaded."""
        workers = list(self.directory.grid_workers.values())
        mean = sum(self.loads.get(w, 0) for w in workers) / len(workers) if workers else 0.0
        return self.overload_ratio * mean if mean else float("inf")

    def free(self, worker: str | None) -> bool:
        """Whether ``worker`` exists and is not overloaded."""
        return worker is not None and self.loads.get(worker, 0) <= self.limit


def open_loads(session: Session) -> dict[str, int]:
    """Open cases per grid worker or chief (staff number), district-wide."""
    query = (select(Case.assignee_id, func.count()).where(Case.assignee_kind.in_(("worker", "chief")),
                                                          Case.state.in_(sorted(OPEN_STATES)))
             .group_by(Case.assignee_id))
    return {str(worker): int(n) for worker, n in session.execute(query)}


def context(session: Session, scope: Scope, rules: RuleSet, neighbours: Mapping[str, list[str]], *,
            overload_ratio: float = OVERLOAD_RATIO) -> Context:
    """The :class:`Context` of ``scope`` from the store (directory and loads read once)."""
    return Context(scope, rules, load_directory(session), open_loads(session), neighbours, overload_ratio)


def _neighbour(ctx: Context, grid: str) -> tuple[str, str] | None:
    best: tuple[int, int, str, str] | None = None
    for rank, other in enumerate(ctx.neighbours.get(grid, [])):
        worker = ctx.directory.grid_workers.get(other)
        if worker is None or not ctx.free(worker) or not ctx.scope.allows(grid_code=other):
            continue
        candidate = (ctx.loads.get(worker, 0), rank, worker, other)
        best = candidate if best is None or candidate < best else best
    return (best[2], best[3]) if best else None


def suggest_one(ctx: Context, case: Mapping[str, Any]) -> Suggestion:
    """The suggestion for one case (a mapping of case columns: ``id``, ``category``,
    ``subcategory``, ``source``, area codes, ``join_status``); counts it in ``ctx.loads``."""
    case_id, grid = int(case["id"]), case.get("grid_code")
    rule = matching_rule(case, ctx.rules)
    if rule is None or rule.target != "grid_worker":
        return _by_rules(ctx, case, "rules")
    admission = ctx.rules.admission
    if admission and not admission.admits(case.get("category"), case.get("subcategory")):
        return _by_rules(ctx, case, "not_admitted", matter=admission.matter(case))
    own = ctx.directory.grid_workers.get(grid) if grid else None
    if own is not None and ctx.free(own):
        return _take(ctx, Suggestion(case_id, "worker", own, "own_worker", {"worker": own, "grid": grid,
                                                                          "open": ctx.loads.get(own, 0)}))
    near = _neighbour(ctx, grid) if grid else None
    if near is not None:
        worker, other = near
        detail = {"worker": worker, "grid": other, "open": ctx.loads.get(worker, 0), "own": own,
                  "own_open": ctx.loads.get(own, 0) if own else None,
                  "passed_over": "overloaded" if own else "absent"}
        return _take(ctx, Suggestion(case_id, "worker", worker, "neighbour", detail))
    return _by_rules(ctx, case, "rules")


def _by_rules(ctx: Context, case: Mapping[str, Any], reason: str, **detail: Any) -> Suggestion:
    decision = route({k: (v if isinstance(v, str) else None) for k, v in case.items()}, ctx.rules, ctx.directory)
    if not decision.routed:
        return Suggestion(int(case["id"]), None, None, "none", {**detail, "routing": decision.reason})
    suggestion = Suggestion(int(case["id"]), decision.assignee_kind, decision.assignee_id, reason,
                            {**detail, "routing": decision.reason, "worker": decision.assignee_id})
    return _take(ctx, suggestion)


def _take(ctx: Context, suggestion: Suggestion) -> Suggestion:
    if suggestion.assignee_kind in ("worker", "chief") and suggestion.assignee_id:
        ctx.loads[suggestion.assignee_id] = ctx.loads.get(suggestion.assignee_id, 0) + 1
    return suggestion


def suggest(ctx: Context, cases: Iterable[Mapping[str, Any]]) -> list[Suggestion]:
    """Suggestions for ``cases`` in order (each one counted before the next)."""
    return [suggest_one(ctx, case) for case in cases]
