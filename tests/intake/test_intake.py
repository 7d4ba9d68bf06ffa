"""Import of 12345 exports: encodings, XLSX, GeoJSON, rejects, dedupe, atomic failure."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import select

from cases.routing import parse_rules
from core.errors import InputError
from intake import pipeline
from intake.files import import_file
from store.models import Case, CaseEvent, Department
from tests.factories import add_people
from tests.intake.samples import HEADERS, ROWS, RULES, counts, write_csv


def check_first_import(store, result):
    assert (result.rows, result.added, result.duplicates, result.rejected, result.unrouted) == (9, 3, 1, 5, 1)
    with store.Session() as s:
        cases = {c.source_id: c for c in s.scalars(select(Case))}
        events = s.scalars(select(CaseEvent)).all()
    gd1, gd2, gd3 = cases["GD1"], cases["GD2"], cases["GD3"]
    assert (gd1.source, gd1.category, gd1.subcategory, gd1.grid_code, gd1.join_status) == (
        "hotline_12345", "request", "noise", "370811004001001", "ok")
    assert (gd1.assignee_kind, gd1.assignee_id, gd1.reporter_phone, gd1.state) == ("worker", "W001", "13812345678",
                                                                                      "reported")
    assert (gd1.community_code, gd1.street_code) == ("370811004001", "370811004")
    assert str(gd1.reported_at) == "2026-11-16 09:00:00"
    assert (gd2.source, gd2.assignee_kind, gd2.assignee_id) == ("snapshot", "department", "住建")
    assert gd3.assignee_id is None and "outside every grid" in gd3.unrouted_reason
    assert sorted(e.action for e in events) == ["report"] * 3 and all(e.seq == 1 for e in events)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding(store, small_hierarchy, tmp_path, encoding):
    with store.Session() as s, s.begin():
        add_people(s)
    path = write_csv(tmp_path / "hotline.csv", encoding)
    result = import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES)
    check_first_import(store, result)
    rejects = pd.read_csv(result.rejects_path, dtype=str, keep_default_na=False, encoding="utf-8")
    assert result.rejects_path.read_bytes().startswith(b"\xef\xbb\xbf")
    by_row = {r["row"]: r for _, r in rejects.iterrows()}
    assert set(by_row) == {"row 5", "row 6", "row 7", "row 8", "row 10"}
    assert by_row["row 5"]["column"] == "一级分类" and "unknown value '天气'" in by_row["row 5"]["reason"]
    assert by_row["row 6"]["column"] == "经度" and "fill in 经度/纬度" in by_row["row 6"]["fix"]
    assert by_row["row 7"]["column"] == "受理时间" and "'昨天' is not a date" in by_row["row 7"]["reason"]
    assert by_row["row 8"]["column"] == "工单编号"
    assert by_row["row 10"]["column"] == "二级分类"
    assert by_row["row 5"]["诉求内容"] == "下雨了"  # the row's own cells follow, ready to fix and re-import


def test_reimport_adds_nothing(store, small_hierarchy, tmp_path):
    with store.Session() as s, s.begin():
        add_people(s)
    path = write_csv(tmp_path / "hotline.csv", "utf-8-sig")
    import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES, rejects_path=tmp_path / "r1.csv")
    before = counts(store)
    again = import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES, rejects_path=tmp_path / "r2.csv")
    assert (again.added, again.duplicates, again.rejected) == (0, 4, 5)
    assert counts(store) == before


def test_xlsx_and_english_headers(store, small_hierarchy, tmp_path):
    with store.Session() as s, s.begin():
        add_people(s)
    xlsx = tmp_path / "hotline.xlsx"
    pd.DataFrame(ROWS, columns=HEADERS).to_excel(xlsx, index=False)
    check_first_import(store, import_file(store.engine, xlsx, hierarchy=small_hierarchy, rules=RULES))
    english = ["order_id", "source", "category", "subcategory", "text", "address", "lon", "lat", "reporter",
               "phone", "reported_at"]
    rows = [["EN1", "patrol", "request", "noise", "x", "", "116.595", "35.412", "", "", "2026-11-16T09:00:00"]]
    result = import_file(store.engine, write_csv(tmp_path / "en.csv", "utf-8", english, rows),
                         hierarchy=small_hierarchy, rules=RULES)
    assert (result.added, result.rejected, result.rejects_path) == (1, 0, None)
    with store.Session() as s:
        case = s.scalars(select(Case).where(Case.source_id == "EN1")).one()
    assert (case.source, case.grid_code, case.assignee_id) == ("patrol", "370811004001002", "W002")


def test_geojson_points(store, small_hierarchy, tmp_path):
    with store.Session() as s, s.begin():
        add_people(s)
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(r[6]), float(r[7])]}
                 if r[6] else None, "properties": dict(zip(HEADERS[:6] + HEADERS[8:], r[:6] + r[8:], strict=True))}
                for r in ROWS]
    path = tmp_path / "hotline.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    result = import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES)
    check_first_import(store, result)
    rejects = pd.read_csv(result.rejects_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "feature 4" in set(rejects["row"])


def test_failure_midway_leaves_the_store_unchanged(store, small_hierarchy, tmp_path, monkeypatch):
    with store.Session() as s, s.begin():
        add_people(s)
    path = write_csv(tmp_path / "hotline.csv", "utf-8")
    rules = parse_rules('departments = ["住建", "新部门"]\n[[rule]]\ntarget = "grid_worker"\n')

    def explode(session, rows):
        raise RuntimeError("disk full while writing events")

    monkeypatch.setattr(pipeline, "_insert_events", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(store.engine, path, hierarchy=small_hierarchy, rules=rules, rejects_path=tmp_path / "r.csv")
    assert counts(store) == (0, 0)
    with store.Session() as s:
        assert s.get(Department, "新部门") is None


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("a.csv", "编号,名称\n1,2\n".encode(), r"missing column\(s\) category, lon, lat, reported_at.*一级分类"),
        ("a.pdf", b"%PDF", r"unsupported file type .pdf"),
        ("a.csv", b"\xff\xff\xff,\xff\n", r"neither UTF-8 nor GBK"),
        ("a.geojson", b"{not json", r"not valid GeoJSON"),
    ],
)
def test_unreadable_files_are_one_line_errors(store, small_hierarchy, tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=match) as info:
        import_file(store.engine, path, hierarchy=small_hierarchy, rules=RULES)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert counts(store) == (0, 0)


def test_coordinates_that_are_not_numbers(store, small_hierarchy, tmp_path):
    rows = [["BAD1", "12345热线", "群众诉求", "噪音扰民", "x", "", "abc", "35.415", "", "", "2026-11-16 09:00"],
            ["OK1", "12345热线", "群众诉求", "噪音扰民", "x", "", "116.585", "35.415", "", "", "2026-11-16 09:00"]]
    result = import_file(store.engine, write_csv(tmp_path / "c.csv", "utf-8", HEADERS, rows),
                         hierarchy=small_hierarchy, rules=RULES)
    assert (result.added, result.rejected) == (1, 1)
    rejects = pd.read_csv(result.rejects_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rejects.loc[0, "row"] == "row 2" and "not a longitude/latitude" in rejects.loc[0, "reason"]
