"""Small hand-made hierarchy for the layer and page tests: one street, two communities, six grids.

Grids are 1 km squares with a wiggly shared edge (many vertices, so simplification has work
to do) in EPSG:4548 near 116.6 E 35.45 N, stored in EPSG:4490 like ``geo.read_hierarchy``
returns them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Polygon

X0, Y0 = 463_700.0, 3_923_300.0  # EPSG:4548 metres, about 116.6 E 35.45 N


def _edge(x: float, y0: float, y1: float, n: int = 60) -> list[tuple[float, float]]:
    """A vertical edge from (x, y0) to (x, y1) with a small deterministic wiggle."""
    ys = np.linspace(y0, y1, n)
    xs = x + 12.0 * np.sin(ys / 37.0) + 2.0 * np.sin(ys / 5.0)
    xs[0] = xs[-1] = x
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def _cell(i: int, j: int) -> Polygon:
    x0, x1 = X0 + i * 1000.0, X0 + (i + 1) * 1000.0
    y0, y1 = Y0 + j * 1000.0, Y0 + (j + 1) * 1000.0
    left = _edge(x0, y0, y1)
    right = _edge(x1, y0, y1)[::-1]  # top to bottom
    return Polygon(left + right)


def sample_hierarchy() -> dict[str, gpd.GeoDataFrame]:
    """Streets, communities and grids (EPSG:4490), as ``geo.read_hierarchy`` returns them."""
    grids, codes, names, parents = [], [], [], []
    for i in range(3):
        for j in range(2):
            grids.append(_cell(i, j))
            codes.append(f"370811004{j + 1:03d}{i + 1:03d}")
            names.append(f"第{i + 1 + 3 * j}网格")
            parents.append(f"370811004{j + 1:03d}")
    g = gpd.GeoDataFrame({"code": codes, "name": names, "parent_code": parents},
                         geometry=grids, crs="EPSG:4548")
    c = g.dissolve("parent_code").reset_index()[["parent_code", "geometry"]]
    c = c.rename(columns={"parent_code": "code"})
    c["name"] = ["东风社区", "<b>河西村</b>"]
    c["parent_code"] = "370811004"
    c = gpd.GeoDataFrame(c[["code", "name", "parent_code", "geometry"]], crs="EPSG:4548")
    s = gpd.GeoDataFrame({"code": ["370811004"], "name": ["示范街道"], "parent_code": [""]},
                         geometry=[shapely.union_all(g.geometry.to_numpy())], crs="EPSG:4548")
    return {level: df.to_crs("EPSG:4490") for level, df in
            (("streets", s), ("communities", c), ("grids", g))}


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path) -> None:
    """Write ``layers`` as one GeoPackage layer per level (the hierarchy file layout)."""
    for level, gdf in layers.items():
        gdf.to_file(path, layer=level, driver="GPKG")


def js_text(html: str) -> str:
    """``html`` with the ``\\uXXXX`` escapes of its embedded JSON decoded, i.e. the strings as
    the browser's JavaScript sees them (so a raw ``<`` hidden as ``\\u003c`` shows up)."""
    import re

    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def js_syntax_errors(html: str) -> list[str]:
    """Syntax errors of the inline scripts of a rendered page, checked by ``node --check``
    (empty when node is missing: the browser tests still run the scripts)."""
    import re
    import shutil
    import subprocess
    import tempfile

    node = shutil.which("node")
    if node is None:
        return []
    errors = []
    for script in re.findall(r"<script>(.*?)</script>", html, re.S):
        with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False, encoding="utf-8") as fh:
            fh.write(script)
        proc = subprocess.run([node, "--check", fh.name], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            errors.append(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "syntax error")
    return errors
