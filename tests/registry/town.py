"""A small hand-made town for the registry tests (a plain module: builders, no fixtures).

Street 370811004000 ⊃ community 370811004001 ⊃ grid G1 (west, lon 116.50-116.55) and grid G2
(east, lon 116.55-116.60), lat 35.40-35.45 (EPSG:4490); a building of about 18 m x 22 m around
each point of :data:`HOMES` (its code: the grid code and a number); workers W001 (G1) and W002 (G2).
"""

from __future__ import annotations

from pathlib import Path

from registry.idnumber import check_character

STREET, COMMUNITY = "370811004000", "370811004001"
G1, G2 = COMMUNITY + "001", COMMUNITY + "002"
GRIDS = {G1: (116.50, 35.40, 116.55, 35.45), G2: (116.55, 35.40, 116.60, 35.45)}
#: Building code -> the point it is drawn around (lon, lat).
HOMES = {
    G1 + "0001": (116.51, 35.41), G1 + "0002": (116.52, 35.41), G1 + "0003": (116.53, 35.41),
    G1 + "0004": (116.51, 35.42), G1 + "0005": (116.52, 35.42),
    G2 + "0001": (116.56, 35.41), G2 + "0002": (116.57, 35.41), G2 + "0003": (116.56, 35.43),
    G2 + "0004": (116.58, 35.445), G2 + "0005": (116.57, 35.42),
}
HEADER = "户编号,户主姓名,身份证号,联系电话,类别,楼栋编码,网格编码,经度,纬度"
_HALF = 0.0001  # degrees: half a building's side


def id_number(seq: int, *, valid: bool = True) -> str:
    """A made-up ID number (born 1950-01-01) with a right (or, with ``valid=False``, wrong) check digit."""
    first17 = f"37081119500101{seq:03d}"
    right = check_character(first17)
    return first17 + (right if valid else ("0" if right != "0" else "1"))


def write_town(folder: Path) -> Path:
    """The town's ``hierarchy.gpkg`` in ``folder``."""
    import geopandas as gpd
    from shapely.geometry import box

    import geo

    def layer(rows: list[tuple[str, str, str, tuple[float, float, float, float]]]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"code": [r[0] for r in rows], "name": [r[1] for r in rows],
                                 "parent_code": [r[2] for r in rows]},
                                geometry=[box(*r[3]) for r in rows], crs="EPSG:4490")

    whole = (116.50, 35.40, 116.60, 35.45)
    layers = {
        "streets": layer([(STREET, "锦川街道", "", whole)]),
        "communities": layer([(COMMUNITY, "民生社区", STREET, whole)]),
        "grids": layer([(G1, "第一网格", COMMUNITY, GRIDS[G1]), (G2, "第二网格", COMMUNITY, GRIDS[G2])]),
        "buildings": layer([(code, f"{code[-2:]}号楼", code[:15], (x - _HALF, y - _HALF, x + _HALF, y + _HALF))
                            for code, (x, y) in HOMES.items()]),
    }
    return geo.write_hierarchy(layers, folder / "hierarchy.gpkg")


def roster_line(number: str, name: str, seq: int, category: str, building: str, *, grid: str = "",
                lon: str = "", lat: str = "", phone: str = "", valid: bool = True) -> str:
    """One CSV line of a registry file (the person's ID number from ``seq``)."""
    return ",".join([number, name, id_number(seq, valid=valid), phone, category, building, grid, lon, lat])


def write_roster(path: Path, lines: list[str], *, encoding: str = "utf-8-sig") -> Path:
    """A registry CSV with :data:`HEADER` and ``lines``."""
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding=encoding)
    return path
