"""``cases.reads`` takes the caller's scope on every public read: a worker cannot read another
grid's cases through any of its functions, and calling one without a scope is a TypeError."""

from __future__ import annotations

import inspect

import pytest

from cases import reads
from core.errors import PermissionDenied
from store.models import Case, CaseEvent
from tests.accounts.conftest import G1, G2, G3, SCOPES


def _public_reads() -> dict[str, object]:
    """Every public function of cases.reads whose first parameter is a session."""
    found = {}
    for name, fn in inspect.getmembers(reads, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != reads.__name__:
            continue
        params = list(inspect.signature(fn).parameters)
        if params and params[0] == "session":
            found[name] = fn
    return found


def _call(fn, session, world, scope=None, **extra):
    """Call ``fn`` once per case id when it takes one, else once; ``scope`` omitted when None."""
    kwargs = dict(extra)
    if scope is not None:
        kwargs["scope"] = scope
    if "case_id" in inspect.signature(fn).parameters:
        results = []
        for ids in world.case_ids.values():
            for cid in ids:
                try:
                    results.append(fn(session, cid, **kwargs))
                except PermissionDenied as exc:
                    results.append(exc)
        return results
    return fn(session, **kwargs)


def _grids(session, value) -> set[str]:
    """Grid codes of whatever a read returned (cases, events, point tuples, count mappings)."""
    if isinstance(value, PermissionDenied):
        return set()
    if isinstance(value, Case):
        return {value.grid_code}
    if isinstance(value, CaseEvent):
        return {session.get(Case, value.case_id).grid_code}
    if isinstance(value, dict):
        return {k for k, n in value.items() if n and k.startswith(G1[:6])}
    if isinstance(value, tuple):  # case_points rows: (id, lon, lat, state, category)
        return {session.get(Case, value[0]).grid_code}
    if isinstance(value, list):
        out: set[str] = set()
        for item in value:
            out |= _grids(session, item)
        return out
    return set()


def test_every_public_read_requires_scope_keyword():
    fns = _public_reads()
    assert {"list_cases", "count_cases", "counts_by_state", "counts_by_area", "get_case", "case_events",
            "case_points"} <= set(fns)
    for name, fn in fns.items():
        param = inspect.signature(fn).parameters.get("scope")
        assert param is not None, f"{name} takes no scope"
        assert param.kind is inspect.Parameter.KEYWORD_ONLY, name
        assert param.default is inspect.Parameter.empty, f"{name} has a default scope"


def test_worker_cannot_read_another_grid_through_any_read(world):
    worker = SCOPES["worker_g1"]
    own = set(world.case_ids[G1])
    with world.store.Session() as session:
        for name, fn in _public_reads().items():
            with pytest.raises(TypeError):
                _call(fn, session, world)
            value = _call(fn, session, world, worker)
            assert _grids(session, value) <= {G1}, name
            if name == "counts_by_area":
                for level in ("street", "community"):
                    assert sum(fn(session, level, scope=worker).values()) == len(own)
            if name in ("count_cases",):
                assert value == len(own)
                assert fn(session, scope=worker, grid=G2) == 0  # a filter cannot widen the scope
            if name == "counts_by_state":
                assert sum(value.values()) == len(own)
            if name == "list_cases":
                assert {c.id for c in value} == own
                assert fn(session, scope=worker, grid=G3) == []
            if name == "case_points":
                assert {row[0] for row in value} == own
            if name == "get_case":
                got = [v.id for v in value if isinstance(v, Case)]
                refused = [v for v in value if isinstance(v, PermissionDenied)]
                assert set(got) == own and len(refused) == len(world.case_ids[G2]) + len(world.case_ids[G3])
            if name == "case_events":
                assert {e.case_id for events in value for e in events} == own
        # the district-wide scope sees every grid
        everyone = reads.district_scope("test")
        assert reads.count_cases(session, scope=everyone) == sum(len(v) for v in world.case_ids.values())


def test_leader_gets_counts_but_no_case_rows(world):
    leader = SCOPES["leader"]
    with world.store.Session() as session:
        assert reads.count_cases(session, scope=leader) == sum(len(v) for v in world.case_ids.values())
        with pytest.raises(PermissionDenied):
            reads.list_cases(session, scope=leader)
        with pytest.raises(PermissionDenied):
            reads.get_case(session, world.case_ids[G1][0], scope=leader)
        with pytest.raises(PermissionDenied):
            reads.case_points(session, scope=leader)


def test_scope_must_be_a_scope():
    with pytest.raises(TypeError):
        reads.count_cases(None, scope=None)
