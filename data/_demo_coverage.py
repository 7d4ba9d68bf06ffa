"""The generator's self-check: each level tiles its parent and every building lies in its grid."""

from __future__ import annotations

import shapely
from _demo_district import District


def check_coverage(district: District, *, tolerance_m2: float = 1.0) -> None:
    """Fail loudly unless each level tiles its parent exactly (no gap, no overlap)."""
    levels = [
        ("communities", district.communities, "PARENT", district.street, "CODE"),
        ("grids", district.grids, "所属社区", district.communities, "CODE"),
    ]
    for name, children, parent_col, parents, code_col in levels:
        geoms = children.geometry.values
        if not bool(shapely.coverage_is_valid(geoms)):
            msg = f"{name}: polygons do not form a valid coverage (overlap or unmatched edges)"
            raise RuntimeError(msg)
        for pcode, parent in zip(parents[code_col], parents.geometry, strict=True):
            kids = geoms[(children[parent_col] == pcode).to_numpy()]
            union = shapely.coverage_union_all(kids)
            diff = shapely.symmetric_difference(union, parent).area
            overlap = float(shapely.area(kids).sum() - union.area)
            if diff > tolerance_m2 or overlap > tolerance_m2:
                msg = (f"{name} of {pcode}: gap/excess {diff:.3f} m², overlap {overlap:.3f} m² "
                       f"(tolerance {tolerance_m2} m²)")
                raise RuntimeError(msg)
    grid_geom = dict(zip(district.grids["网格编码"], district.grids.geometry, strict=True))
    for code, grid, b in zip(district.buildings["CODE"], district.buildings["GRID"],
                             district.buildings.geometry, strict=True):
        if not grid_geom[grid].contains(b):
            msg = f"building {code} is not entirely inside its grid {grid}"
            raise RuntimeError(msg)
