"""Fuzzing the intake readers: read_table (CSV, XLSX, GeoJSON), normalise, check_upload and
import_file end to end on a small SQLite store."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from core import constants
from intake.files import import_file
from intake.normalise import PLAUSIBLE_YEARS, hierarchy_index, normalise
from intake.tables import Table, read_table
from intake.uploads import EXTENSIONS, check_upload, safe_name
from store import db
from tests.fuzz.helpers import (
    examples,
    from_the_future,
    mutated,
    odd_cells,
    result_or_input_error,
    rezipped,
    written,
    zipped,
)
from tests.intake.samples import HEADERS, ROWS, RULES

ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz_tables")


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


CSV_SEED = _csv_text(HEADERS, ROWS)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """The sample export with odd cells, odd headers, or its bytes mutated."""
    kind = draw(st.sampled_from(("cells", "headers", "bytes")))
    encoding = draw(st.sampled_from(ENCODINGS))
    if kind == "bytes":
        return draw(mutated(CSV_SEED.encode(encoding)))
    header, rows = list(HEADERS), [list(r) for r in ROWS[: draw(st.integers(0, len(ROWS)))]]
    if kind == "headers":
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.one_of(odd_cells, st.sampled_from(HEADERS)))
            header[draw(st.integers(0, len(header) - 1))] = name + draw(st.sampled_from(("", " ", "  ")))
    for row in rows:
        for j in draw(st.lists(st.integers(0, len(row) - 1), max_size=3)):
            row[j] = draw(odd_cells)
    return _csv_text(header, rows).encode(encoding, errors="replace")


def _check_table(table: Table, data: bytes | None) -> None:
    assert set(constants.CASE_IMPORT_REQUIRED) <= set(table.frame.columns) <= set(constants.CASE_IMPORT_HEADERS)
    assert len(table.frame) == len(table.row_labels) == len(table.original)
    assert all(isinstance(v, str) for col in table.frame.columns for v in table.frame[col])
    if data is not None and table.kind == "csv":
        assert len(table.frame) <= data.count(b"\n") + data.count(b"\r") + 1


#: Found by the fuzz: a header and the same header with a trailing space (AttributeError).
SPACED_HEADER = _csv_text([*HEADERS, "经度 "], [[*ROWS[0], "116.5"]]).encode()


@settings(max_examples=examples(200))
@given(data=st.one_of(csv_files(), st.binary(max_size=80)), suffix=st.sampled_from((".csv", ".txt")))
@example(data=SPACED_HEADER, suffix=".csv")
def test_read_table_csv(folder: Path, data: bytes, suffix: str) -> None:
    with written(folder, f"hotline{suffix}", data) as path:
        table = result_or_input_error(lambda: read_table(path), path)
    if table is not None:
        _check_table(table, data)


def _xlsx(rows: list[list[str]]) -> bytes:
    out = io.BytesIO()
    pd.DataFrame(rows[1:], columns=rows[0]).to_excel(out, index=False)
    return out.getvalue()


XLSX_SEED = _xlsx([HEADERS, *ROWS])


@settings(max_examples=examples(50))
@given(data=st.one_of(mutated(XLSX_SEED), rezipped(XLSX_SEED)))
def test_read_table_xlsx(folder: Path, data: bytes) -> None:
    with written(folder, "hotline.xlsx", data) as path:
        table = result_or_input_error(lambda: read_table(path), path)
    if table is not None:
        _check_table(table, None)


json_values = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=6),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                        max_size=3), max_leaves=8)
PROPS = dict(zip(HEADERS, ROWS[0], strict=True))


@st.composite
def features(draw: st.DrawFn) -> Any:
    """A GeoJSON feature, valid or with any part replaced by odd JSON."""
    coords: Any = draw(st.one_of(st.just([116.585, 35.415]), st.lists(st.one_of(st.floats(), odd_cells), max_size=3),
                                 json_values))
    geometry: Any = {"type": draw(st.sampled_from(("Point", "LineString", "point"))), "coordinates": coords}
    feature: Any = {"type": "Feature", "properties": dict(PROPS), "geometry": geometry}
    for key in draw(st.lists(st.sampled_from(("feature", "properties", "geometry")), max_size=2)):
        odd = draw(json_values)
        if key == "feature":
            feature = odd
        elif isinstance(feature, dict):
            feature[key] = odd
    return feature


def _geojson(items: list[Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": items}, ensure_ascii=False).encode()


GEOJSON_SEED = _geojson([{"type": "Feature", "properties": PROPS,
                          "geometry": {"type": "Point", "coordinates": [116.585, 35.415]}}])


@settings(max_examples=examples(150))
@given(data=st.one_of(st.lists(features(), max_size=4).map(_geojson), mutated(GEOJSON_SEED),
                      json_values.map(lambda v: json.dumps(v).encode())))
@example(data=_geojson([[1]]))
@example(data=_geojson([{"properties": "ab"}]))
@example(data=_geojson([{"properties": PROPS, "geometry": {"type": "Point", "coordinates": 5}}]))
@example(data=b"[" * 100_000)
def test_read_table_geojson(folder: Path, data: bytes) -> None:
    with written(folder, "hotline.geojson", data) as path:
        table = result_or_input_error(lambda: read_table(path), path)
    if table is not None:
        _check_table(table, None)
        assert all(label.startswith("feature ") for label in table.row_labels)


KEYS = tuple(constants.CASE_IMPORT_HEADERS)
#: Found by the fuzz: times with and without an offset, or with two offsets, in one column (ValueError).
MIXED_TIMES = ("2026-11-16T09:00:00+08:00", "2026-11-16 09:00:00", "2026-11-16 09:00:00+09:00")


@settings(max_examples=examples(120))
@given(rows=st.lists(st.fixed_dictionaries({k: odd_cells for k in KEYS}), max_size=6),
       drop=st.sets(st.sampled_from([k for k in KEYS if k not in constants.CASE_IMPORT_REQUIRED])))
@example(rows=[dict.fromkeys(KEYS, "") | {"reported_at": t} for t in MIXED_TIMES], drop=set())
@example(rows=[dict.fromkeys(KEYS, "") | {"reported_at": t} for t in MIXED_TIMES[::2]], drop=set())
def test_normalise_names_every_problem(rows: list[dict[str, str]], drop: set[str]) -> None:
    frame = pd.DataFrame(rows, columns=list(KEYS), dtype=object).drop(columns=sorted(drop))
    headers = {k: constants.CASE_IMPORT_HEADERS[k][0] for k in frame.columns}
    out, problems = normalise(frame, headers, "hotline_12345")
    assert len(out) == len(frame)
    assert set(problems.by_row) <= set(range(len(frame)))
    assert all(len(p) == 3 and all(isinstance(s, str) for s in p) for ps in problems.by_row.values() for p in ps)
    times = out["reported_at"].dropna()
    assert all(PLAUSIBLE_YEARS[0] <= t.year <= PLAUSIBLE_YEARS[1] and t.tzinfo is None for t in times)
    for i, row in enumerate(rows):
        if row["source_id"] == "" or pd.isna(out["reported_at"].iloc[i]) or pd.isna(out["category"].iloc[i]):
            assert i in problems.by_row


UPLOAD_SEEDS = {".csv": CSV_SEED.encode(), ".txt": CSV_SEED.encode("gb18030"), ".xlsx": XLSX_SEED,
                ".geojson": GEOJSON_SEED, ".json": GEOJSON_SEED, ".gpkg": b"SQLite format 3\x00" + bytes(84),
                ".zip": zipped({"grids/grids.shp": b"x", "grids/grids.dbf": b"y"})}
odd_names = st.one_of(st.sampled_from(("../../etc/x", "C:\\tmp\\a", "a/b\\c", " .", "<>:|?*", "\x00", "a" * 300)),
                      st.text(max_size=12))


@st.composite
def uploads(draw: st.DrawFn) -> tuple[str, bytes]:
    """A file name and content: mostly a kind's seed (as is or mutated, maybe under another kind's
    extension), sometimes random bytes under an odd extension."""
    suffix = draw(st.sampled_from(sorted(UPLOAD_SEEDS)))
    content = draw(st.sampled_from((suffix, suffix, suffix, *UPLOAD_SEEDS)))
    data = draw(st.one_of(st.just(UPLOAD_SEEDS[content]), mutated(UPLOAD_SEEDS[content]), st.binary(max_size=64)))
    suffix = draw(st.sampled_from((suffix, suffix.upper(), suffix + " ", ".exe", "", ".shp")))
    return draw(st.one_of(st.just("orders"), odd_names)) + suffix, data


@settings(max_examples=examples(200))
@given(upload=uploads(), allowed=st.sets(st.sampled_from(sorted(set(EXTENSIONS.values()))), min_size=3),
       max_mb=st.sampled_from((0.0001, 1.0, 1.0, 1.0, 50.0)))
@example(upload=("a.geojson", b"[" * 100_000), allowed={"geojson", "csv", "zip"}, max_mb=50.0)
@example(upload=("a.zip", from_the_future(UPLOAD_SEEDS[".zip"])), allowed={"geojson", "csv", "zip"}, max_mb=50.0)
def test_check_upload(upload: tuple[str, bytes], allowed: set[str], max_mb: float) -> None:
    filename, data = upload
    name = safe_name(filename)
    checked = result_or_input_error(
        lambda: check_upload(filename, data, allowed=tuple(sorted(allowed)), max_mb=max_mb), name)
    if checked is not None:
        assert checked.name == name and "/" not in name and "\\" not in name
        assert checked.kind in allowed and checked.size == len(data) <= max_mb * 1048576


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz_store') / 'cases.db'}")
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def index(small_hierarchy: Path) -> Any:
    return hierarchy_index(small_hierarchy)


@settings(max_examples=examples(25))
@given(data=csv_files())
def test_import_file_end_to_end(folder: Path, engine: Engine, index: Any, data: bytes) -> None:
    with written(folder, "orders.csv", data) as path:
        result = result_or_input_error(lambda: import_file(engine, path, hierarchy=index, rules=RULES,
                                                           rejects_path=folder / "rejects.csv"), path)
        if result is None:
            return
        assert result.rows == len(read_table(path).frame)
    assert result.rows == result.added + result.duplicates + result.rejected
    assert (result.rejects_path is not None) == (result.rejected > 0)

