"""Scoped reads: a worker cannot read another grid through any public function, a leader sees
counts but no personal data, everything is masked by default, unmask is audited, and filters are
bound parameters."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from access.unmask import unmask
from cases import queries
from cases.queries import CaseFilter
from core.errors import InputError, NotFound, PermissionDenied
from metrics.coverage import visit_coverage
from registry import queries as registry_reads
from store.models import Case, Household
from tests.fixtures.world import (
    C1,
    G1,
    G2,
    G3,
    SCOPES,
    SECRETS,
    T0,
    audit_marker,
    audit_since,
)
from workforce import queries as workforce_reads

NOW = T0 + timedelta(days=2)
PERIOD = (T0, T0 + timedelta(days=30))


def _all_outputs(session, scope, world) -> dict[str, object]:
    """Call every public read of cases.queries with the caller's scope; refusals are recorded."""
    out: dict[str, object] = {}
    other = [cid for grid in (G1, G2, G3) for cid in world.case_ids[grid]]
    calls = {
        "list_cases": lambda: queries.list_cases(session, scope),
        "list_cases_area_g2": lambda: queries.list_cases(session, scope, CaseFilter(area_codes=(G2,))),
        "count_cases": lambda: queries.count_cases(session, scope, by="grid"),
        "count_cases_community": lambda: queries.count_cases(session, scope, by="community"),
        "total_cases": lambda: queries.total_cases(session, scope),
        "total_cases_g2": lambda: queries.total_cases(session, scope, CaseFilter(area_codes=(G2,))),
        "count_by_state": lambda: queries.count_by_state(session, scope),
        "list_households": lambda: registry_reads.list_households(session, scope),
        "count_households": lambda: registry_reads.count_households(session, scope),
        "list_visits": lambda: registry_reads.list_visits(session, scope),
        "visit_coverage": lambda: visit_coverage(session, scope, PERIOD),
        "households_to_visit": lambda: registry_reads.households_to_visit(session, scope, PERIOD, credible=True),
        "households_to_visit_g2": lambda: registry_reads.households_to_visit(session, scope, "2026-12", area_code=G2),
        "worker_positions": lambda: workforce_reads.worker_positions(session, scope),
        "export_cases_csv": lambda: queries.export_cases(session, scope, fmt="csv", now=NOW),
        "export_cases_xlsx": lambda: queries.export_cases(session, scope, fmt="xlsx", now=NOW),
        "export_households": lambda: registry_reads.export_households(session, scope, fmt="csv", now=NOW),
    }
    for wid in world.worker_of.values():
        calls[f"worker_track_{wid}"] = lambda wid=wid: workforce_reads.worker_track(session, scope, wid)
    for cid in other:
        calls[f"get_case_{cid}"] = lambda cid=cid: queries.get_case(session, scope, cid)
        calls[f"case_timeline_{cid}"] = lambda cid=cid: queries.case_timeline(session, scope, cid)
    for name, call in calls.items():
        try:
            out[name] = call()
        except (PermissionDenied, NotFound) as exc:
            out[name] = exc
    return out


def _grids_in(value) -> set[str]:
    if isinstance(value, pd.DataFrame):
        cols = [c for c in ("grid_code", "code") if c in value.columns]
        return {str(v) for c in cols for v in value[c].dropna()}
    if isinstance(value, queries.CaseView):
        return {value.grid_code} - {None}
    if isinstance(value, bytes):
        text = value.decode("utf-8-sig", errors="ignore")
        return {g for g in (G1, G2, G3) if g in text}
    return set()


def _as_text(value) -> str:
    if isinstance(value, pd.DataFrame):
        return value.to_json(force_ascii=False, default_handler=str, date_format="iso")
    if isinstance(value, bytes):
        if value[:2] == b"PK":  # xlsx
            return pd.read_excel(io.BytesIO(value), dtype=str).to_json(force_ascii=False)
        return value.decode("utf-8-sig")
    if isinstance(value, queries.CaseView):
        return json.dumps(value.to_dict(), ensure_ascii=False, default=str)
    return ""


def test_worker_cannot_read_another_grid_through_any_function(world):
    with world.store.Session() as session, session.begin():
        outputs = _all_outputs(session, SCOPES["worker_g1"], world)
        seen = set()
        for value in outputs.values():
            if isinstance(value, Exception):
                continue
            seen |= _grids_in(value)
        assert seen - {C1} == {G1}  # (C1 is the community level of count_cases_community)
        assert outputs["count_cases_community"]["cases"].tolist() == [2]
        texts = " ".join(_as_text(v) for v in outputs.values() if not isinstance(v, Exception))
        assert G2 not in texts and G3 not in texts
        # direct reads of other grids' records are refused, own ones allowed
        for grid in (G2, G3):
            for cid in world.case_ids[grid]:
                assert isinstance(outputs[f"get_case_{cid}"], NotFound)
                assert isinstance(outputs[f"case_timeline_{cid}"], NotFound)
        for cid in world.case_ids[G1]:
            assert outputs[f"get_case_{cid}"].grid_code == G1
            assert len(outputs[f"case_timeline_{cid}"]) == 1
        assert outputs["list_cases_area_g2"].empty  # an area filter cannot widen the scope
        assert outputs["total_cases"] == 2 and outputs["total_cases_g2"] == 0
        assert sum(outputs["count_by_state"].values()) == 2
        assert len(outputs["list_cases"]) == 2 and len(outputs["list_households"]) == 2
        assert set(outputs["list_visits"]["household_id"]) == set(world.household_ids[G1])
        assert outputs["worker_track_W002"].empty and outputs["worker_track_W003"].empty
        assert len(outputs["worker_track_W001"]) == 3
        assert outputs["worker_positions"]["worker_id"].tolist() == ["W001"]
        # unmask outside the own grid is "not found" too
        with pytest.raises(NotFound):
            unmask(session, SCOPES["worker_g1"], "household", world.household_ids[G2][0], "phone", now=NOW)


def test_another_grids_case_is_not_found_exactly_like_a_missing_one(world):
    """A worker cannot tell another grid's case id from one that does not exist."""
    other = world.case_ids[G2][0]
    missing = max(cid for ids in world.case_ids.values() for cid in ids) + 1000
    with world.store.Session() as session:
        messages = {}
        for label, cid in (("other", other), ("missing", missing)):
            for read in (queries.get_case, queries.case_timeline):
                with pytest.raises(NotFound) as caught:
                    read(session, SCOPES["worker_g1"], cid)
                messages[(label, read.__name__)] = str(caught.value).replace(str(cid), "<id>")
        assert messages[("other", "get_case")] == messages[("missing", "get_case")]
        assert messages[("other", "case_timeline")] == messages[("missing", "case_timeline")]
        assert "outside" not in messages[("other", "get_case")]


def test_chief_sees_own_community_only(world):
    with world.store.Session() as session, session.begin():
        frame = queries.list_cases(session, SCOPES["chief_c1"])
        assert set(frame["grid_code"]) == {G1, G2}
        cov = visit_coverage(session, SCOPES["chief_c1"], PERIOD)
        assert set(cov["code"]) == {G1, G2}
        with pytest.raises(NotFound):
            queries.get_case(session, SCOPES["chief_c1"], world.case_ids[G3][0])
        street = queries.list_cases(session, SCOPES["chief_street"])
        assert set(street["grid_code"]) == {G1, G2, G3}
        assert set(queries.list_cases(session, SCOPES["commander"])["grid_code"]) == {G1, G2, G3}


def test_counts_follow_the_source_filter(world):
    with world.store.Session() as session, session.begin():
        everything = queries.count_cases(session, SCOPES["commander"], by="grid")
        hotline = queries.count_cases(session, SCOPES["commander"], CaseFilter(source="hotline_12345"), by="grid")
        patrol = queries.count_cases(session, SCOPES["commander"], CaseFilter(source="patrol"), by="grid")
        assert hotline.equals(everything) and int(everything["cases"].sum()) > 0
        assert patrol.empty  # every seeded case came from the hotline


def test_leader_sees_counts_but_no_names_or_contacts(world):
    with world.store.Session() as session, session.begin():
        outputs = _all_outputs(session, SCOPES["leader"], world)
        counts = outputs["count_cases"]
        assert dict(zip(counts["code"], counts["cases"], strict=True)) == {G1: 2, G2: 2, G3: 2}
        households = outputs["count_households"]
        assert households["households"].sum() == 6
        cov = outputs["visit_coverage"]
        assert cov["households_due"].sum() == 6
        for refused in ("list_households", "list_visits", "worker_positions", "export_cases_csv",
                        "export_households", "worker_track_W001"):
            assert isinstance(outputs[refused], PermissionDenied), refused
        cases = outputs["list_cases"]
        assert len(cases) == 6
        assert cases["reporter_name"].isna().all() and cases["reporter_phone"].isna().all()
        dumped = " ".join(_as_text(v) for v in outputs.values())
        for secret in SECRETS["names"] + SECRETS["phones"] + SECRETS["ids"]:
            assert secret not in dumped
            assert secret[:3] + "****" + secret[-4:] not in dumped  # not even masked contacts
        with pytest.raises(PermissionDenied):
            unmask(session, SCOPES["leader"], "case", world.case_ids[G1][0], "reporter_phone", now=NOW)


@pytest.mark.parametrize("role", ["admin", "commander", "chief_street", "worker_g1"])
def test_every_output_is_masked_by_default(world, role):
    with world.store.Session() as session, session.begin():
        outputs = _all_outputs(session, SCOPES[role], world)
        dumped = " ".join(_as_text(v) for v in outputs.values() if not isinstance(v, Exception))
        for secret in SECRETS["names"] + SECRETS["phones"] + SECRETS["ids"]:
            assert secret not in dumped, secret
        frame = outputs["list_cases"]
        assert frame["reporter_phone"].str.fullmatch(r"1\d\d\*{4}\d{4}").all()
        assert frame["text"].str.contains(r"1\d\d\*{4}\d{4}").all()  # phone inside the text scrubbed
        households = outputs["list_households"]
        assert households["id_number"].str.fullmatch(r"370\*{11}\d{4}").all()
        assert households["head_name"].str.contains(r"\*").all()


def test_unmask_needs_permission_and_writes_audit(world):
    hid_g1 = world.household_ids[G1][0]
    cid_g2 = world.case_ids[G2][0]
    with world.store.Session() as session, session.begin():
        marker = audit_marker(session)
        phone = unmask(session, SCOPES["worker_g1"], "household", hid_g1, "phone", now=NOW, ip="10.0.0.2")
        assert phone == session.get(Household, hid_g1).phone and "*" not in phone
        name = unmask(session, SCOPES["chief_c1"], "case", cid_g2, "reporter_name", now=NOW, reason="回访核实")
        assert name == session.get(Case, cid_g2).reporter_name
        with pytest.raises(PermissionDenied):  # a worker may unmask households, not case reporters
            unmask(session, SCOPES["worker_g1"], "case", world.case_ids[G1][0], "reporter_phone", now=NOW)
        with pytest.raises(NotFound):
            unmask(session, SCOPES["chief_c1"], "household", world.household_ids[G3][0], "id_number", now=NOW)
        with pytest.raises(InputError, match="no personal field 'text'"):
            unmask(session, SCOPES["admin"], "case", cid_g2, "text", now=NOW)
        entries = audit_since(session, marker)
        assert [(e.actor, e.action, e.target_kind, e.target_id, e.detail["field"]) for e in entries] == [
            ("w1", "unmask", "household", hid_g1, "phone"),
            ("chief1", "unmask", "case", str(cid_g2), "reporter_name"),
        ]
        assert entries[0].ip == "10.0.0.2" and entries[1].detail["reason"] == "回访核实"
        assert phone not in json.dumps(entries[0].detail, ensure_ascii=False)


def test_exports_are_masked_and_audited(world):
    with world.store.Session() as session, session.begin():
        marker = audit_marker(session)
        data = queries.export_cases(session, SCOPES["chief_c1"], CaseFilter(states=("reported",)), fmt="csv", now=NOW)
        assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel/WPS
        frame = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
        assert len(frame) == 4 and set(frame["grid_code"]) == {G1, G2}
        assert frame["reporter_phone"].str.contains(r"\*{4}").all()
        xlsx = registry_reads.export_households(session, SCOPES["admin"], fmt="xlsx", now=NOW)
        sheet = pd.read_excel(io.BytesIO(xlsx), dtype=str)
        assert len(sheet) == 6 and sheet["id_number"].str.contains(r"\*{11}").all()
        with pytest.raises(InputError, match="unknown export format"):
            queries.export_cases(session, SCOPES["admin"], fmt="pdf", now=NOW)
        entries = audit_since(session, marker)
        assert [(e.action, e.target_kind, e.detail["rows"], e.detail["format"]) for e in entries] == [
            ("export", "cases", 4, "csv"), ("export", "households", 6, "xlsx")]
        assert entries[0].detail["filters"]["states"] == ["reported"]


def test_export_neutralises_spreadsheet_formulas(world):
    with world.store.Session() as session, session.begin():
        case = session.get(Case, world.case_ids[G1][0])
        case.text = "=HYPERLINK(\"http://evil\",\"点我\")"
        session.flush()
        data = queries.export_cases(session, SCOPES["admin"], fmt="xlsx", now=NOW)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    texts = [row[header.index("text")] for row in sheet.iter_rows(min_row=2)]
    evil = [cell for cell in texts if cell.value == "=HYPERLINK(\"http://evil\",\"点我\")"]
    # a string cell holding the text as written: Excel shows it, never evaluates it
    assert len(evil) == 1 and evil[0].data_type == "s"


def test_visit_coverage_counts_on_site_visits_as_credible(world):
    with world.store.Session() as session, session.begin():
        cov = visit_coverage(session, SCOPES["admin"], PERIOD).set_index("code")
        # each grid: 2 households due, both visited, only one on site
        assert cov.loc[G1, "households_due"] == 2 and cov.loc[G1, "visited"] == 2
        assert cov.loc[G1, "visited_on_site"] == 1
        assert cov.loc[G1, "coverage"] == pytest.approx(1.0)
        assert cov.loc[G1, "credible_coverage"] == pytest.approx(0.5)
        by_community = visit_coverage(session, SCOPES["admin"], PERIOD, by="community").set_index("code")
        assert by_community.loc[C1, "households_due"] == 4 and by_community.loc[C1, "visited_on_site"] == 2
        later = visit_coverage(session, SCOPES["admin"], "2026-12")
        assert (later["visited"] == 0).all() and (later["coverage"] == 0).all()
        with pytest.raises(InputError, match="YYYY-MM"):
            visit_coverage(session, SCOPES["admin"], "November")
        with pytest.raises(InputError, match="unknown level"):
            visit_coverage(session, SCOPES["admin"], PERIOD, by="province")


def test_households_to_visit_lists_who_is_still_due(world):
    with world.store.Session() as session, session.begin():
        credible = registry_reads.households_to_visit(session, SCOPES["chief_c1"], PERIOD, credible=True)
        # in each grid of the chief's community one of the two households was visited on paper only
        assert sorted(credible["grid_code"]) == sorted([G1, G2])
        assert credible["last_visit_at"].notna().all()
        assert registry_reads.households_to_visit(session, SCOPES["chief_c1"], PERIOD).empty
        later = registry_reads.households_to_visit(session, SCOPES["worker_g1"], "2026-12")
        assert set(later["grid_code"]) == {G1} and len(later) == 2
        assert not later["head_name"].isin(SECRETS["names"]).any()
        assert later["head_name"].str.contains("*", regex=False).all()
        one_category = later["category"].iloc[0]
        assert set(registry_reads.households_to_visit(session, SCOPES["worker_g1"], "2026-12",
                                              category=one_category)["category"]) == {one_category}
        cov = visit_coverage(session, SCOPES["admin"], PERIOD, category=one_category).set_index("code")
        households = session.scalar(select(func.count()).select_from(Household)
                                    .where(Household.category == one_category, Household.grid_code == G1))
        assert cov.loc[G1, "households_due"] == households
        with pytest.raises(PermissionDenied):
            registry_reads.households_to_visit(session, SCOPES["leader"], PERIOD)


@pytest.mark.parametrize(
    "evil",
    ["' OR '1'='1", "'; DROP TABLE cases; --", "%", "_", "\\", f"{G2}' OR grid_code LIKE '%"],
)
def test_filters_are_bound_parameters(world, evil):
    scope = SCOPES["worker_g1"]
    with world.store.Session() as session, session.begin():
        before = session.scalar(select(func.count()).select_from(Case))
        assert queries.list_cases(session, scope, CaseFilter(search=evil)).empty
        assert queries.list_cases(session, scope, CaseFilter(area_codes=(evil,))).empty
        assert queries.list_cases(session, scope, CaseFilter(category=evil, source=evil)).empty
        with pytest.raises(InputError, match="unknown state"):
            CaseFilter(states=(evil,))
        assert registry_reads.list_households(session, scope, category=evil, area_code=evil).empty
        assert registry_reads.list_visits(session, scope, household_id=evil, worker_id=evil).empty
        assert workforce_reads.worker_track(session, scope, evil).empty
        with pytest.raises(InputError):
            queries.count_cases(session, scope, by=evil)
        with pytest.raises(NotFound):
            unmask(session, SCOPES["admin"], "household", evil, "phone", now=NOW)
        assert session.scalar(select(func.count()).select_from(Case)) == before
        # a literal search term still finds what it should
        assert len(queries.list_cases(session, scope, CaseFilter(search="楼道堆放"))) == 2


def test_paging_and_time_window(world):
    scope = SCOPES["admin"]
    with world.store.Session() as session, session.begin():
        page1 = queries.list_cases(session, scope, limit=4)
        page2 = queries.list_cases(session, scope, limit=4, offset=4)
        assert len(page1) == 4 and len(page2) == 2
        assert not set(page1["id"]) & set(page2["id"])
        hours_2_to_4 = CaseFilter(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=4))
        window = queries.list_cases(session, scope, hours_2_to_4)
        assert len(window) == 2
        assert list(page1["reported_at"]) == sorted(page1["reported_at"], reverse=True)
        positions = workforce_reads.worker_positions(session, scope, at=datetime(2026, 11, 16, 9, 6))
        assert set(positions["worker_id"]) == {"W001", "W002", "W003"}
        assert (positions["at"] == datetime(2026, 11, 16, 9, 5)).all()
