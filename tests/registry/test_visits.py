"""Recording a visit from the field (registry.commands.record_visit): the position rule, the on-site
verdict against the household's location, the caller's scope; SQLite and PostGIS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pyproj import Geod

from access.scope import Scope
from core.errors import InputError, NotFound, PermissionDenied
from registry.commands import record_visit
from store.models import Visit, WorkerTrack
from tests.fixtures.world import G1, G2, POINTS, T0

WORKER = Scope(role="worker", area_codes=G1, username="w1", worker_id="W001")
GEOD = Geod(ellps="GRS80")


def _east(lon: float, lat: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90, metres)
    return lon2, lat2


def test_a_visit_at_the_door_is_verified_on_site(world):
    household = world.household_ids[G1][0]
    lon, lat = _east(*POINTS[G1], 20)
    with world.store.Session() as s, s.begin():
        near = record_visit(s, WORKER, household, outcome="情况稳定", lon=lon, lat=lat, at=T0 + timedelta(days=2))
        far = record_visit(s, WORKER, household, lon=_east(*POINTS[G1], 200)[0], lat=lat, at=T0 + timedelta(days=3))
    assert near.on_site and near.distance_m == pytest.approx(20, abs=0.5) and near.position == "phone"
    assert not far.on_site and far.distance_m == pytest.approx(200, abs=1)
    with world.store.Session() as s:
        stored = s.get(Visit, near.id)
        assert (stored.worker_id, stored.grid_code, stored.outcome, stored.on_site) == ("W001", G1, "情况稳定", True)


def test_the_latest_gps_fix_is_used_else_no_position_on_request(world):
    household = world.household_ids[G1][1]
    at = T0 + timedelta(days=2)
    with world.store.Session() as s, s.begin():
        with pytest.raises(InputError, match="no GPS fix of W001"):
            record_visit(s, WORKER, household, at=at)
        blind = record_visit(s, WORKER, household, no_fix=True, at=at)
        s.add(WorkerTrack(worker_id="W001", at=at - timedelta(minutes=3), lon=POINTS[G1][0], lat=POINTS[G1][1],
                          grid_code=G1, community_code=G1[:12], street_code="370811004000"))
        s.flush()
        by_fix = record_visit(s, WORKER, household, at=at)
    assert (blind.position, blind.distance_m, blind.on_site) == ("none", None, False)
    assert by_fix.position == "gps_fix" and by_fix.on_site


def test_only_own_grid_and_only_workers(world):
    with world.store.Session() as s:
        with pytest.raises(NotFound):
            record_visit(s, WORKER, world.household_ids[G2][0], no_fix=True)
        with pytest.raises(NotFound):
            record_visit(s, WORKER, "HH-missing", no_fix=True)
        with pytest.raises(PermissionDenied, match="record visits"):
            record_visit(s, Scope(role="leader", username="boss"), world.household_ids[G1][0], no_fix=True)
