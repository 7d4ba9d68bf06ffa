"""Service facilities (党群服务中心, 幸福食堂, 卫生室 ...) as labelled square markers."""

from __future__ import annotations

import folium
import pandas as pd

from core.i18n import t
from layers._html import esc, rows_html
from layers._tooltips import tooltip_markers
from layers.basemaps import NO_BASEMAP, Basemap

FACILITY_CLASS = "gc-facility"
#: Badge and colour per facility kind; other kinds get the first character of their name.
KIND_STYLES: dict[str, tuple[str, str]] = {
    "党群服务中心": ("党", "#c62828"),
    "幸福食堂": ("食", "#ef6c00"),
    "卫生室": ("医", "#00838f"),
}
DEFAULT_COLOR = "#6a1b9a"


def build_facilities_layer(
    facilities: pd.DataFrame,
    *,
    name: str,
    show: bool = True,
    lang: str = "zh",
    basemap: Basemap = NO_BASEMAP,
) -> folium.FeatureGroup:
    """Facility markers with an escaped tooltip (name, kind).

    Parameters
    ----------
    facilities : DataFrame
        ``name``, ``kind``, ``lon``, ``lat`` (EPSG:4490/4326 degrees); rows without valid
        coordinates are not drawn.
    name, show, lang
        Layer name, initial visibility, language.
    basemap : Basemap
        Coordinates are shifted into the basemap's system (GCJ-02 for AMap).

    Returns
    -------
    folium.FeatureGroup
    """
    missing = [c for c in ("name", "kind", "lon", "lat") if c not in facilities.columns]
    if missing:
        msg = f"facilities frame lacks column(s) {', '.join(missing)}; expected name, kind, lon, lat"
        raise ValueError(msg)
    lon = pd.to_numeric(facilities["lon"], errors="coerce")
    lat = pd.to_numeric(facilities["lat"], errors="coerce")
    ok = lon.between(-180, 180) & lat.between(-90, 90)
    icons, tips = [], []
    for row in facilities.loc[ok].to_dict("records"):
        kind = str(row["kind"])
        badge, color = KIND_STYLES.get(kind, (kind[:1] or "?", DEFAULT_COLOR))
        icons.append(f'<div class="{FACILITY_CLASS}" style="background:{color}">{esc(badge)}</div>')
        tips.append(rows_html([(t("facility_kind", lang), kind)], title=row["name"]))
    group = folium.FeatureGroup(name=name, show=show)
    group.add_child(tooltip_markers(lon[ok].to_numpy(), lat[ok].to_numpy(), icons, tips, basemap=basemap,
                                    class_name="gc-facility-icon", size=(20, 20)))
    return group
