"""The demo CSV tables, drawn in a fixed order from one random generator."""

from __future__ import annotations

import numpy as np
from _demo_district import District
from _demo_facilities import facility_rows
from _demo_incidents import incident_rows
from _demo_people import household_rows, visit_rows, worker_rows
from _demo_table_inputs import TableInputs
from _demo_tracks import track_rows

#: Column headers of the CSV tables, in the order they are generated and written.
HEADERS: dict[str, tuple[str, ...]] = {
    "incidents.csv": ("工单编号", "来源渠道", "一级分类", "二级分类", "诉求内容", "事发地址", "经度",
                      "纬度", "诉求人", "联系电话", "受理时间", "办结时间", "满意度"),
    "workers.csv": ("工号", "姓名", "手机号", "网格编码", "社区编码", "岗位"),
    "households.csv": ("户编号", "户主姓名", "身份证号", "联系电话", "类别", "楼栋编码", "网格编码", "经度",
                       "纬度"),
    "visits.csv": ("走访编号", "户编号", "工号", "走访时间", "经度", "纬度", "走访结果"),
    "tracks.csv": ("工号", "时间", "经度", "纬度"),
    "facilities.csv": ("名称", "类型", "经度", "纬度", "社区编码"),
}


def build_tables(rng: np.random.Generator, district: District) -> None:
    """Incidents, workers, households, visits, tracks and facilities.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random draw (drawn in a fixed order, so a seed gives the same tables).
    district : District
        Layers with buildings; its ``tables`` are set (file name -> header, rows of strings).
    """
    inputs = TableInputs.of(district)
    workers, grid_worker = worker_rows(rng, inputs)
    incidents = incident_rows(rng, inputs)
    households, places = household_rows(rng, inputs)
    visits = visit_rows(rng, inputs, households, places, grid_worker)
    tracks = track_rows(rng, inputs, grid_worker)
    facilities = facility_rows(rng, inputs)
    rows = {"incidents.csv": incidents, "workers.csv": workers, "households.csv": households,
            "visits.csv": visits, "tracks.csv": tracks, "facilities.csv": facilities}
    district.tables = {name: (list(HEADERS[name]), rows[name]) for name in HEADERS}
