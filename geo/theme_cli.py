"""Command line of the thematic grids and the service circle (dispatched by ``python -m geo``).

::

    python -m geo themes add --hierarchy H.gpkg --theme NAME --layer FILE [--code-field F]
                             [--owner-field F] [--name-field F] [--crs EPSG:N]
    python -m geo themes list --hierarchy H.gpkg
    python -m geo themes remove --hierarchy H.gpkg --theme NAME
    python -m geo crosswalk --hierarchy H.gpkg --theme NAME --out FILE.csv [--tolerance 0.05]
                            [--straddles FILE.csv] [--uncovered FILE.csv]
    python -m geo service-circle --hierarchy H.gpkg --roads FILE --facilities FILE.csv [--speed 1.2]
                                 [--minutes 5,10,15] --out FILE.csv [--households FILE] [--gaps FILE.csv]

Tables are written by :func:`core.spreadsheet.write_table` (UTF-8 with BOM, no live formula,
atomic). Errors are one line (exit 2) naming the file, the feature or row, and the fix.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from core.errors import InputError

#: The commands this module runs.
COMMANDS: tuple[str, ...] = ("themes", "crosswalk", "service-circle")


def add_parsers(sub: Any) -> None:
    """Add the ``themes``, ``crosswalk`` and ``service-circle`` sub-commands to ``sub``."""
    themes = sub.add_parser("themes", help="thematic grids stored beside the hierarchy (多网合一)")
    verbs = themes.add_subparsers(dest="theme_command", required=True, parser_class=type(themes))
    add = verbs.add_parser("add", help="store (or replace) a thematic layer in hierarchy.gpkg")
    add.add_argument("--hierarchy", required=True)
    add.add_argument("--theme", required=True, help="the theme's name, e.g. safety")
    add.add_argument("--layer", required=True, help=".shp/.zip/.gpkg/.geojson, any CRS and encoding")
    add.add_argument("--code-field")
    add.add_argument("--owner-field", help="responsible department or person (工号)")
    add.add_argument("--name-field")
    add.add_argument("--crs", help="CRS of a layer without .prj (EPSG:NNNN)")
    listing = verbs.add_parser("list", help="the themes stored in hierarchy.gpkg")
    listing.add_argument("--hierarchy", required=True)
    remove = verbs.add_parser("remove", help="remove a stored theme")
    remove.add_argument("--hierarchy", required=True)
    remove.add_argument("--theme", required=True)
    cw = sub.add_parser("crosswalk", help="overlap of base grids and a thematic grid; write FILE.csv")
    cw.add_argument("--hierarchy", required=True)
    cw.add_argument("--theme", required=True)
    cw.add_argument("--out", required=True)
    cw.add_argument("--tolerance", type=float, default=None,
                    help="straddle tolerance as a share of a base grid's area (default 0.05)")
    cw.add_argument("--straddles", help="also write the thematic cells that cut through base grids")
    cw.add_argument("--uncovered", help="also write the base grids with area no thematic cell covers")
    cw.add_argument("--metric-crs", help="metric CRS for areas (default from settings)")
    sc = sub.add_parser("service-circle", help="walking time to the nearest facility of each type; write FILE.csv")
    sc.add_argument("--hierarchy", required=True)
    sc.add_argument("--roads", required=True, help="road lines: .shp/.zip/.gpkg/.geojson, any CRS and encoding")
    sc.add_argument("--roads-crs", help="CRS of a road layer without .prj (EPSG:NNNN)")
    sc.add_argument("--facilities", required=True, help="CSV: 名称, 类型, 经度, 纬度")
    sc.add_argument("--speed", type=float, default=None, help="walking speed in m/s (default 1.2)")
    sc.add_argument("--minutes", default=None, help="time bands in minutes (default 5,10,15)")
    sc.add_argument("--out", required=True)
    sc.add_argument("--households", help="building layer or CSV with households per building code")
    sc.add_argument("--households-field")
    sc.add_argument("--households-code-field")
    sc.add_argument("--gaps", help="also write the gaps ranked by households a new service point would cover")
    sc.add_argument("--top", type=int, default=10, help="sites per facility type in --gaps (default 10)")
    sc.add_argument("--no-node", action="store_true",
                    help="do not split roads at crossings (data already split at junctions, bridges kept)")
    sc.add_argument("--metric-crs", help="metric CRS for distances (default from settings)")


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; returns the exit code."""
    if args.command == "themes":
        return {"add": _add, "list": _list, "remove": _remove}[args.theme_command](args)
    if args.command == "crosswalk":
        return _crosswalk(args)
    return _service_circle(args)


def _table_path(value: str, flag: str) -> Path:
    path = Path(value)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(flag, f"{value}: unsupported table type {path.suffix or '(none)'!r}",
                         "give a .csv (UTF-8 with BOM) or .xlsx file name")
    return path


def _hierarchy_path(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise InputError(value, "hierarchy file not found", "run `python -m geo build ... --out` first")
    return path


def _add(args: argparse.Namespace) -> int:
    from geo.themes import add_theme, check_theme_name, read_theme_layer

    path = _hierarchy_path(args.hierarchy)
    theme = check_theme_name(args.theme)
    cells, notes = read_theme_layer(args.layer, theme=theme, code_field=args.code_field,
                                    owner_field=args.owner_field, name_field=args.name_field, crs=args.crs)
    count = add_theme(path, cells)
    for note in notes:
        print(f"  note: {note}")
    owners = cells.loc[cells["owner"] != "", "owner"].nunique()
    print(f"theme {theme}: {count} cells, {owners} owner(s) stored in {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from geo.themes import theme_summary

    table = theme_summary(_hierarchy_path(args.hierarchy))
    if not len(table):
        print(f"no theme stored in {args.hierarchy}")
    for row in table.itertuples(index=False):
        print(f"{row.theme}\t{row.cells} cells\t{row.owners} owner(s)")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from geo.themes import remove_theme

    gone = remove_theme(_hierarchy_path(args.hierarchy), args.theme)
    print(f"theme {args.theme}: {gone} cells removed from {args.hierarchy}")
    return 0


def _metric_crs(grids: Any, given: str | None) -> str:
    from core.settings import load_settings
    from geo.metric import choose_metric_crs
    from geo.normalise import layer_centre

    preferred = given or load_settings().metric_crs
    return preferred if given else choose_metric_crs(*layer_centre(grids), preferred=preferred)


def _crosswalk(args: argparse.Namespace) -> int:
    from core.spreadsheet import write_table
    from geo import read_hierarchy
    from geo.crosswalk import STRADDLE_TOLERANCE, crosswalk, straddling_cells, uncovered
    from geo.themes import read_themes

    out = _table_path(args.out, "--out")
    extra = {flag: _table_path(v, f"--{flag}") for flag, v in (("straddles", args.straddles),
                                                                 ("uncovered", args.uncovered)) if v}
    tolerance = STRADDLE_TOLERANCE if args.tolerance is None else args.tolerance
    if not 0 <= tolerance < 0.5:
        raise InputError("--tolerance", f"{tolerance} is not a share below one half", "give e.g. 0.05 (5 %)")
    path = _hierarchy_path(args.hierarchy)
    cells = read_themes(path, args.theme)
    layers = read_hierarchy(path)
    grids = layers["grids"]
    metric = _metric_crs(grids, args.metric_crs)
    table = crosswalk(grids, cells, metric_crs=metric, buildings=layers["buildings"], tolerance=tolerance)
    cut = straddling_cells(table)
    gaps = uncovered(grids, cells, metric_crs=metric)
    write_table(table, out)
    if "straddles" in extra:
        write_table(cut, extra["straddles"])
    if "uncovered" in extra:
        write_table(gaps, extra["uncovered"])
    print(f"crosswalk {args.theme}: {len(table)} pairs of {table['grid_code'].nunique()} grids x "
          f"{table['theme_code'].nunique()} cells (metric CRS {metric}): {out}")
    cut_grids = table.loc[table["straddles"].astype(bool), "grid_code"].nunique()
    print(f"straddling: {len(cut)} of {len(cells)} cells cut through {cut_grids} base grids "
          f"beyond {tolerance:.0%}" + (f" ({', '.join(cut['theme_code'].head(8))}"
                                       f"{' ...' if len(cut) > 8 else ''})" if len(cut) else ""))
    print(f"uncovered: {gaps['uncovered_m2'].sum():,.0f} m² of base area in {len(gaps)} grid(s) "
          f"is covered by no cell of {args.theme}")
    return 0


def _service_circle(args: argparse.Namespace) -> int:
    from core.progress import progress
    from core.spreadsheet import write_table
    from geo import read_hierarchy
    from geo.network import build_network, read_roads
    from geo.service_circle import (
        DEFAULT_MINUTES,
        DEFAULT_SPEED_M_S,
        check_speed,
        parse_minutes,
        service_circle,
    )
    from geo.service_inputs import read_facilities, read_households

    start = time.perf_counter()
    out = _table_path(args.out, "--out")
    gaps_out = _table_path(args.gaps, "--gaps") if args.gaps else None
    if gaps_out is not None and args.top < 1:
        raise InputError("--top", f"{args.top} is not a count of sites", "give 1 or more, e.g. --top 10")
    speed = check_speed(DEFAULT_SPEED_M_S if args.speed is None else args.speed)
    minutes = parse_minutes(args.minutes if args.minutes is not None else DEFAULT_MINUTES)
    path = _hierarchy_path(args.hierarchy)
    with progress(6, "geo service-circle", unit="steps") as bar:
        layers = read_hierarchy(path)
        facilities = read_facilities(args.facilities)
        households = (read_households(args.households, code_field=args.households_code_field,
                                      count_field=args.households_field) if args.households else None)
        roads, notes = read_roads(args.roads, crs=args.roads_crs)
        bar.update(1)
        if not len(layers["buildings"]):
            raise InputError(str(path), "holds no building", "build the hierarchy with --buildings")
        metric = _metric_crs(layers["grids"], args.metric_crs)
        network = build_network(roads, metric_crs=metric, node=not args.no_node)
        bar.update(1)
        result = service_circle(layers["buildings"], network, facilities, grids=layers["grids"],
                                households=households, speed=speed, minutes=minutes)
        bar.update(1)
        write_table(result.rows, out)
        bar.update(1)
        if gaps_out is not None:
            _write_gaps(result, gaps_out, args.top)
        bar.update(2)
    _report(result, network, notes, out, time.perf_counter() - start)
    return 0


def _write_gaps(result: Any, path: Path, top: int) -> None:
    import pandas as pd

    from core.spreadsheet import write_table
    from geo.service_gaps import rank_gaps

    write_table(pd.concat([rank_gaps(result, kind, top=top) for kind in result.types], ignore_index=True), path)


def _report(result: Any, network: Any, notes: list[str], out: Path, seconds: float) -> None:
    from geo.service_circle import totals

    comps = network.components()
    print(f"network: {network.length_km:,.1f} km, {network.n_nodes:,} junctions, {comps.max() + 1} component(s); "
          f"{len(result.facilities)} facilities of {len(result.types)} type(s); speed {result.speed:g} m/s")
    for note in notes:
        print(f"  note: {note}")
    snap = float(result.rows.drop_duplicates("building_code")["snap_m"].median()) if len(result.rows) else 0.0
    if snap > 500:
        print(f"  warning: buildings lie {snap:,.0f} m from the nearest road (median): check the road layer's CRS "
              "(--roads-crs) and that it covers the district")
    largest = f"{max(result.minutes):g}"
    for row in totals(result).to_dict("records"):
        who = (f"{row[f'households_outside_{largest}']:,} households" if result.households_known
               else f"{row[f'outside_{largest}']:,} buildings")
        print(f"  {row['facility_type']}: {row['facilities']} facilities; outside {largest} min: {who} "
              f"({row[f'share_outside_{largest}']:.1%}); unreachable {row['unreachable']}")
    print(f"service circle: {len(result.rows):,} rows in {seconds:.2f} s: {out}")
