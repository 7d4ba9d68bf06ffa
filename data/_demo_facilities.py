"""Service facilities of the demo district (党群服务中心, 幸福食堂, 卫生室, 综治中心)."""

from __future__ import annotations

import numpy as np
from _demo_district import STREET_NAME
from _demo_table_inputs import TableInputs


def _facility_kinds(rng: np.random.Generator, kind: str, code: str) -> list[str]:
    """Facilities of a community or village: a 党群服务中心 and some of 卫生室 and 幸福食堂;
    the first community also hosts the street's 综治中心."""
    kinds = ["党群服务中心"]
    if kind == "村":
        kinds.append("卫生室")
        if rng.random() < 0.45:
            kinds.append("幸福食堂")
    else:
        kinds.append("幸福食堂")
        if rng.random() < 0.4:
            kinds.append("卫生室")
    if code.endswith("001"):
        kinds.append("综治中心")
    return kinds


def facility_rows(rng: np.random.Generator, inputs: TableInputs) -> list[list[str]]:
    """Facilities at buildings near each community's centroid (the k-th at the 7k-th nearest)."""
    rows: list[list[str]] = []
    b_xy = inputs.building_xy
    b_comm = inputs.buildings["GRID"].str[:12].to_numpy()
    for c in inputs.communities.itertuples(index=False):
        centre = np.array([c.geometry.centroid.x, c.geometry.centroid.y])
        idx = np.flatnonzero(b_comm == c.CODE)
        if len(idx):
            order = idx[np.argsort(np.hypot(*(b_xy[idx] - centre).T))]
            spots = [b_xy[i] for i in order[:40]]
        else:
            p = c.geometry.representative_point()
            spots = [np.array([p.x, p.y])]
        for k, kind in enumerate(_facility_kinds(rng, c.KIND, c.CODE)):
            xy = spots[min(len(spots) - 1, 7 * k)]
            name = f"{STREET_NAME}综治中心" if kind == "综治中心" else f"{c.NAME}{kind}"
            rows.append([name, kind, *inputs.lonlat(*xy), c.CODE])
    return rows
