"""Scope: roles to SQL filters and row predicates."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from access.scope import Scope
from core.errors import InputError, PermissionDenied

ROWS = [
    {"id": 1, "street_code": "S1", "community_code": "C1", "grid_code": "G1"},
    {"id": 2, "street_code": "S1", "community_code": "C1", "grid_code": "G2"},
    {"id": 3, "street_code": "S1", "community_code": "C2", "grid_code": "G3"},
    {"id": 4, "street_code": "S2", "community_code": "C3", "grid_code": "G4"},
    {"id": 5, "street_code": None, "community_code": None, "grid_code": None},
]


@pytest.fixture()
def table():
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    places = sa.Table(
        "places",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("street_code", sa.String),
        sa.Column("community_code", sa.String),
        sa.Column("grid_code", sa.String),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(places.insert(), ROWS)
    yield engine, places
    engine.dispose()


def _ids(engine, places, scope):
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(places.c.id).where(scope.clause(places.c))).scalars())


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope("admin"), [1, 2, 3, 4, 5]),
        (Scope("commander"), [1, 2, 3, 4, 5]),
        (Scope("leader"), [1, 2, 3, 4, 5]),
        (Scope("chief", frozenset({"C1"})), [1, 2]),
        (Scope("chief", frozenset({"S1"})), [1, 2, 3]),
        (Scope("worker", frozenset({"G2"})), [2]),
        (Scope("worker", frozenset({"G2", "G4"})), [2, 4]),
        # a worker given a community code still sees only grids named exactly
        (Scope("worker", frozenset({"C1"})), []),
    ],
)
def test_sql_clause_and_predicate_agree(table, scope, expected):
    engine, places = table
    assert _ids(engine, places, scope) == expected
    assert sorted(r["id"] for r in ROWS if scope.allows(r)) == expected
    assert sorted(r["id"] for r in ROWS if scope.allows(SimpleNamespace(**r))) == expected


def test_injection_string_as_area_code_is_a_bound_value(table):
    engine, places = table
    evil = Scope("worker", frozenset({"G1' OR '1'='1"}))
    assert _ids(engine, places, evil) == []
    compiled = str(evil.clause(places.c).compile(engine))
    assert "OR '1'='1" not in compiled


def test_for_user_reads_comma_separated_codes():
    user = SimpleNamespace(role="worker", area_codes="G1, G2", username="w1", id=7)
    scope = Scope.for_user(user)
    assert scope.area_codes == frozenset({"G1", "G2"})
    assert scope.user_id == 7 and scope.username == "w1"
    assert Scope.for_user(SimpleNamespace(role="chief", area_codes=["C1"])).area_codes == {"C1"}


def test_bad_roles_and_missing_areas():
    with pytest.raises(InputError, match="unknown role 'root'"):
        Scope("root")
    with pytest.raises(InputError, match="a worker needs at least one area code"):
        Scope("worker")
    with pytest.raises(InputError, match="a chief needs"):
        Scope("chief", frozenset({" "}))


def test_permissions():
    leader = Scope("leader")
    assert leader.can("read_aggregates") and not leader.records_allowed
    with pytest.raises(PermissionDenied, match="leader"):
        leader.require_records()
    with pytest.raises(PermissionDenied):
        Scope("commander").require("manage_users")
    Scope("admin").require("read_audit")
    worker = Scope("worker", frozenset({"G1"}))
    assert worker.may_unmask("household", ROWS[0])
    assert not worker.may_unmask("household", ROWS[1])
    assert not worker.may_unmask("case", ROWS[0])
    chief = Scope("chief", frozenset({"C1"}))
    assert chief.may_unmask("case", ROWS[1]) and not chief.may_unmask("case", ROWS[2])
    assert not leader.may_unmask("household", ROWS[0])
    assert Scope("admin").may_unmask("case", ROWS[4])
