"""The demo district's CSVs: hotline export, workers, households, visits, tracks, facilities."""

from __future__ import annotations

import codecs

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from core.constants import (
    CATEGORIES,
    DEFAULT_METRIC_CRS,
    SATISFACTION,
    SOURCES,
    STORAGE_CRS,
    SUBCATEGORIES,
    VISIT_CATEGORIES,
)

TO_METRIC = Transformer.from_crs(STORAGE_CRS, DEFAULT_METRIC_CRS, always_xy=True)


def _xy(frame: pd.DataFrame, lon: str = "经度", lat: str = "纬度") -> np.ndarray:
    x, y = TO_METRIC.transform(frame[lon].astype(float).to_numpy(),
                               frame[lat].astype(float).to_numpy())
    return np.c_[x, y]


def _grid_of(demo, xy: np.ndarray) -> pd.Series:
    grids = demo.layers["grids"].to_crs(DEFAULT_METRIC_CRS)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
                              crs=DEFAULT_METRIC_CRS)
    joined = gpd.sjoin(points, grids[["网格编码", "geometry"]], predicate="within", how="left")
    return joined.groupby(level=0)["网格编码"].first()


@pytest.mark.parametrize("name", ["incidents", "workers", "households", "visits", "tracks",
                                  "facilities"])
def test_csvs_are_utf8_with_bom(demo, name):
    raw = (demo.path / f"{name}.csv").read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    raw.decode("utf-8")


def test_incidents_look_like_a_hotline_export(demo):
    inc = demo.tables["incidents"]
    assert list(inc.columns) == ["工单编号", "来源渠道", "一级分类", "二级分类", "诉求内容", "事发地址",
                                 "经度", "纬度", "诉求人", "联系电话", "受理时间", "办结时间", "满意度"]
    assert 2500 <= len(inc) <= 2700
    assert inc["工单编号"].is_unique
    assert inc["工单编号"].str.fullmatch(r"GD\d{12}").all()
    accepted = pd.to_datetime(inc["受理时间"])
    assert accepted.min() >= pd.Timestamp("2026-04-15")
    assert accepted.max() <= pd.Timestamp("2026-06-30 23:59:59")
    assert (inc["工单编号"].str[2:10] == accepted.dt.strftime("%Y%m%d")).all()
    closed = inc["办结时间"] != ""
    assert (pd.to_datetime(inc.loc[closed, "办结时间"]) >= accepted[closed]).all()
    assert 0 < (~closed).sum() < 0.1 * len(inc)
    assert (accepted[~closed] > pd.Timestamp("2026-06-01")).all()  # open ones are recent
    assert (inc.loc[~closed, "满意度"] == "").all()
    assert inc["诉求内容"].str.len().min() >= 10
    assert inc["事发地址"].str.len().min() >= 6
    assert inc["诉求人"].str.len().between(2, 3).all()
    assert inc["联系电话"].str.fullmatch(r"1390000\d{4}").all()


def test_incident_labels_come_from_the_constants(demo):
    inc = demo.tables["incidents"]
    sources = inc["来源渠道"].value_counts(normalize=True)
    assert set(sources.index) <= {s.zh for s in SOURCES.values()}
    assert sources.idxmax() == SOURCES["hotline_12345"].zh
    assert sources[SOURCES["hotline_12345"].zh] > 0.5
    assert sources[SOURCES["snapshot"].zh] > sources.get(SOURCES["video"].zh, 0)
    cat_of = {c.zh: key for key, c in CATEGORIES.items()}
    assert set(inc["一级分类"]) == set(cat_of)
    for cat, sub in zip(inc["一级分类"], inc["二级分类"], strict=True):
        assert sub in {s.zh for s in SUBCATEGORIES[cat_of[cat]]}
    shares = inc["一级分类"].value_counts(normalize=True)
    assert shares.idxmax() == CATEGORIES["request"].zh
    assert shares.idxmin() == CATEGORIES["emergency"].zh
    assert shares[CATEGORIES["emergency"].zh] < 0.1


def test_satisfaction_is_near_99_8_percent_of_rated(demo):
    rating = demo.tables["incidents"]["满意度"]
    assert set(rating) <= {"", *(s.zh for s in SATISFACTION.values())}
    rated = rating[rating != ""]
    satisfied = rated.isin([SATISFACTION["satisfied"].zh, SATISFACTION["basically_satisfied"].zh])
    assert len(rated) > 0.8 * len(rating)
    assert 0.99 <= satisfied.mean() < 1.0


def test_incidents_have_coordinates_except_three_with_an_address(demo):
    inc = demo.tables["incidents"]
    blank = (inc["经度"] == "") & (inc["纬度"] == "")
    assert blank.sum() == 3
    assert (inc.loc[blank, "事发地址"] != "").all()
    located = inc[~blank]
    assert located["经度"].str.fullmatch(r"\d{3}\.\d{7}").all()
    assert located["纬度"].str.fullmatch(r"\d{2}\.\d{7}").all()
    street = demo.layers["streets"].to_crs(DEFAULT_METRIC_CRS).geometry.iloc[0]
    xy = _xy(located)
    near = shapely.dwithin(street, shapely.points(xy), 100.0)
    assert near.mean() > 0.99


def test_incidents_cluster_where_people_live(demo):
    inc = demo.tables["incidents"]
    located = inc[inc["经度"] != ""]
    per_grid = _grid_of(demo, _xy(located)).value_counts()
    households = demo.layers["buildings"].groupby("GRID")["HOUSEHOLDS"].sum()
    grids = demo.layers["grids"]["网格编码"]
    frame = pd.DataFrame({"households": grids.map(households).fillna(0).to_numpy(),
                          "incidents": grids.map(per_grid).fillna(0).to_numpy()})
    ranks = frame.rank()  # Spearman's rho = Pearson's r of the ranks
    assert ranks["households"].corr(ranks["incidents"]) > 0.5
    busy = frame["households"] >= frame["households"].median()
    assert frame.loc[busy, "incidents"].sum() > 0.75 * frame["incidents"].sum()


def test_workers_one_per_grid_plus_chiefs_and_mobile(demo):
    workers = demo.tables["workers"]
    assert list(workers.columns) == ["工号", "姓名", "手机号", "网格编码", "社区编码", "岗位"]
    assert len(workers) == 231
    assert workers["工号"].is_unique
    posts = workers["岗位"].value_counts()
    assert posts.to_dict() == {"专职网格员": 198, "网格长": 18, "机动网格员": 15}
    full_time = workers[workers["岗位"] == "专职网格员"]
    assert sorted(full_time["网格编码"]) == sorted(demo.layers["grids"]["网格编码"])
    assert (full_time["网格编码"].str[:12] == full_time["社区编码"]).all()
    chiefs = workers[workers["岗位"] == "网格长"]
    assert (chiefs["网格编码"] == "").all()
    assert sorted(chiefs["社区编码"]) == sorted(demo.layers["communities"]["CODE"])
    mobile = workers[workers["岗位"] == "机动网格员"]
    assert set(mobile["社区编码"]) <= set(demo.layers["communities"]["CODE"])
    assert workers["手机号"].str.fullmatch(r"1380000\d{4}").all()


def _check_digit(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def test_households_have_clearly_fake_ids_and_sit_on_their_building(demo):
    hh = demo.tables["households"]
    assert list(hh.columns) == ["户编号", "户主姓名", "身份证号", "联系电话", "类别", "楼栋编码",
                                "网格编码", "经度", "纬度"]
    assert 200 <= len(hh) <= 800
    assert hh["户编号"].is_unique
    ids = hh["身份证号"]
    assert ids.str.fullmatch(r"370811(19|20)\d{9}[0-9X]").all()
    assert all(pd.Timestamp(i[6:14]) < pd.Timestamp("2008-01-01") for i in ids)
    assert all(_check_digit(i[:17]) != i[17] for i in ids), "an ID has a valid check digit"
    assert set(hh["类别"]) == {v.zh for v in VISIT_CATEGORIES.values()}
    blds = demo.layers["buildings"].to_crs(DEFAULT_METRIC_CRS).set_index("CODE")
    assert (hh["楼栋编码"].map(blds["GRID"]) == hh["网格编码"]).all()
    centroids = blds.geometry.centroid[hh["楼栋编码"]]
    dist = np.hypot(*(_xy(hh) - np.c_[centroids.x, centroids.y]).T)
    assert dist.max() < 0.1


def test_visits_are_monthly_mostly_on_site_with_some_paper_visits(demo):
    visits, hh = demo.tables["visits"], demo.tables["households"]
    assert list(visits.columns) == ["走访编号", "户编号", "工号", "走访时间", "经度", "纬度", "走访结果"]
    assert visits["走访编号"].is_unique
    when = pd.to_datetime(visits["走访时间"])
    assert set(when.dt.month) == {4, 5, 6} and (when.dt.year == 2026).all()
    for month in (4, 5, 6):
        covered = visits.loc[when.dt.month == month, "户编号"].nunique() / len(hh)
        assert 0.8 <= covered < 1.0, f"month {month}: coverage {covered:.3f}"
    workers = demo.tables["workers"]
    worker_grid = dict(zip(workers["工号"], workers["网格编码"], strict=True))
    hh_grid = dict(zip(hh["户编号"], hh["网格编码"], strict=True))
    assert all(worker_grid[w] == hh_grid[h] for w, h in zip(visits["工号"], visits["户编号"],
                                                            strict=True))
    home = hh.set_index("户编号").loc[visits["户编号"]]
    dist = np.hypot(*(_xy(visits) - _xy(home)).T)
    assert (dist <= 20.0).mean() > 0.9
    paper = dist > 200.0
    assert 0 < paper.sum() < 0.1 * len(visits)


def test_tracks_patrol_inside_each_workers_grid(demo):
    tracks = demo.tables["tracks"]
    assert list(tracks.columns) == ["工号", "时间", "经度", "纬度"]
    workers = demo.tables["workers"]
    full_time = workers[workers["岗位"] == "专职网格员"]
    assert set(tracks["工号"]) == set(full_time["工号"])
    when = pd.to_datetime(tracks["时间"])
    assert (when >= pd.Timestamp("2026-06-30 08:00")).all()
    assert (when <= pd.Timestamp("2026-06-30 17:30")).all()
    per_worker = tracks.groupby("工号").size()
    assert per_worker.min() >= 60  # a point every few minutes for 9.5 hours
    grid_of_worker = dict(zip(full_time["工号"], full_time["网格编码"], strict=True))
    found = _grid_of(demo, _xy(tracks))
    assert (found.to_numpy() == tracks["工号"].map(grid_of_worker).to_numpy()).mean() > 0.999


def test_facilities_one_party_centre_per_community(demo):
    fac = demo.tables["facilities"]
    assert list(fac.columns) == ["名称", "类型", "经度", "纬度", "社区编码"]
    assert set(fac["类型"]) <= {"党群服务中心", "幸福食堂", "卫生室", "综治中心"}
    assert {"幸福食堂", "卫生室"} <= set(fac["类型"])
    centres = fac[fac["类型"] == "党群服务中心"]
    assert sorted(centres["社区编码"]) == sorted(demo.layers["communities"]["CODE"])
    comms = demo.layers["communities"].to_crs(DEFAULT_METRIC_CRS).set_index("CODE")
    inside = shapely.contains_xy(comms.geometry[fac["社区编码"]].to_numpy(), *_xy(fac).T)
    assert inside.all()
