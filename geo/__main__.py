"""Command line: ``python -m geo build ...``, ``python -m geo join ...``, ``python -m geo rejoin ...``
(:mod:`geo.rejoin`, on Dask) and the thematic grid and service circle commands of
:mod:`geo.theme_cli` (``themes``, ``crosswalk``, ``service-circle``).

Exit codes: 0 done; 1 ``build`` found problems with severity ``error`` (report written, the
GeoPackage only with ``--allow-problems``); 2 unreadable input or bad arguments (one line on
stderr naming the file and the fix).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from core.constants import COORD_SYSTEMS, LEVELS, SNAP_DISTANCE_M
from core.errors import GridCommandError, InputError
from geo.theme_cli import COMMANDS as THEME_COMMANDS
from geo.theme_cli import add_parsers as add_theme_parsers
from geo.theme_cli import run as run_theme_command

_FIELDS = ("code", "name", "parent")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(2, f"{self.prog}: {message}. Fix: see `{self.prog} --help`\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m geo", description="Grid hierarchy import, checks and incident join.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    b = sub.add_parser("build", help="import, normalise and check the hierarchy; write hierarchy.gpkg")
    b.add_argument("--streets")
    b.add_argument("--communities")
    b.add_argument("--grids", required=True)
    b.add_argument("--buildings")
    b.add_argument("--map", action="append", default=[], metavar="LEVEL.FIELD=SOURCE_FIELD",
                   help="explicit field mapping, FIELD is code|name|parent (repeatable)")
    b.add_argument("--crs", action="append", default=[], metavar="LEVEL=EPSG:NNNN",
                   help="CRS of a layer without .prj, or to override it (repeatable)")
    b.add_argument("--out", required=True, help="hierarchy.gpkg to write")
    b.add_argument("--report", help="report.json to write")
    b.add_argument("--allow-problems", action="store_true",
                   help="write the GeoPackage even when error-level problems are found")
    b.add_argument("--metric-crs", help="metric CRS for areas (default from settings)")
    b.add_argument("--tolerance-m2", type=float, help="sliver tolerance in m² (default from settings)")
    j = sub.add_parser("join", help="join incidents onto the hierarchy; write joined.csv")
    j.add_argument("--hierarchy", required=True)
    j.add_argument("--incidents", required=True)
    j.add_argument("--lon")
    j.add_argument("--lat")
    j.add_argument("--coords", choices=COORD_SYSTEMS, default="wgs84")
    j.add_argument("--snap-m", type=float, default=None, help=f"snap distance in m (default {SNAP_DISTANCE_M:g})")
    j.add_argument("--out", required=True)
    r = sub.add_parser("rejoin", help="re-join a GeoParquet case history onto a hierarchy on Dask; write GeoParquet")
    r.add_argument("--hierarchy", required=True, help="hierarchy.gpkg from `build`")
    r.add_argument("--history", required=True, help="GeoParquet with case_id and point geometry (any CRS)")
    r.add_argument("--out", required=True, help="GeoParquet to write")
    r.add_argument("--partitions", type=int, help="partitions of the history (default one per 500,000 rows)")
    r.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (default a local cluster)")
    add_theme_parsers(sub)
    return p


def parse_map(items: list[str]) -> dict[str, dict[str, str]]:
    """``["grids.code=网格编码", ...]`` → ``{"grids": {"code": "网格编码"}}``."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, src = item.partition("=")
        level, dot, fld = key.partition(".")
        if not sep or not dot or level not in LEVELS or fld not in _FIELDS or not src:
            raise InputError(f"--map {item}", "expected LEVEL.FIELD=SOURCE_FIELD",
                             f"LEVEL is {'|'.join(LEVELS)}, FIELD is {'|'.join(_FIELDS)}, e.g. grids.code=网格编码")
        out.setdefault(level, {})[fld] = src
    return out


def parse_crs_args(items: list[str]) -> dict[str, str]:
    """``["grids=EPSG:4548"]`` → ``{"grids": "EPSG:4548"}``."""
    out: dict[str, str] = {}
    for item in items:
        level, sep, crs = item.partition("=")
        if not sep or level not in LEVELS or not crs:
            raise InputError(f"--crs {item}", "expected LEVEL=EPSG:NNNN",
                             f"LEVEL is {'|'.join(LEVELS)}, e.g. --crs grids=EPSG:4548")
        out[level] = crs
    return out


def _build(args: argparse.Namespace) -> int:
    from core.settings import load_settings
    from geo.hierarchy import build_hierarchy, write_hierarchy, write_json_atomic

    settings = load_settings()
    sources = {lv: getattr(args, lv) for lv in LEVELS if getattr(args, lv)}
    result = build_hierarchy(
        sources, mapping=parse_map(args.map), crs=parse_crs_args(args.crs),
        metric_crs=args.metric_crs or settings.metric_crs,
        tolerance_m2=args.tolerance_m2 if args.tolerance_m2 is not None else settings.sliver_tolerance_m2,
    )
    if args.report:
        write_json_atomic(result.report, args.report)
    errors = [p for p in result.problems if p.severity == "error"]
    warnings = [p for p in result.problems if p.severity != "error"]
    levels = ", ".join(f"{lv} {v['features']}" for lv, v in result.report["levels"].items())
    print(f"hierarchy: {levels}; {len(errors)} error(s), {len(warnings)} warning(s); "
          f"metric CRS {result.report['metric_crs']}")
    for p in errors[:20]:
        print(f"  {p.severity}: {p.kind}: {p.message}")
    if len(errors) > 20:
        print(f"  ... {len(errors) - 20} more errors" + (f" in {args.report}" if args.report else ""))
    if errors and not args.allow_problems:
        print(f"not written: {args.out} (fix the errors or pass --allow-problems)")
        return 1
    write_hierarchy(result.layers, args.out)
    print(f"written: {args.out}")
    return 1 if errors else 0


def _join(args: argparse.Namespace) -> int:
    from geo.join_cli import join_file

    summary = join_file(args.hierarchy, args.incidents, args.out, lon_col=args.lon, lat_col=args.lat,
                        coords=args.coords, snap_m=args.snap_m)
    counts = ", ".join(f"{k} {v}" for k, v in summary["statuses"].items() if v)
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in summary["phases"].items())
    print(f"joined {summary['rows']} rows ({counts}) in {summary['seconds']:.2f} s ({phases}): {args.out}")
    return 0


def _rejoin(args: argparse.Namespace) -> int:
    from geo.rejoin import rejoin

    summary = rejoin(args.hierarchy, args.history, args.out, partitions=args.partitions, scheduler=args.scheduler)
    counts = ", ".join(f"{k} {v}" for k, v in summary["statuses"].items() if v) or "none"
    print(f"rejoined {summary['rows']} rows ({counts}) in {summary['seconds']:.2f} s, "
          f"{summary['partitions']} partitions on {summary['workers']} workers: {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command in THEME_COMMANDS:
            return run_theme_command(args)
        return {"build": _build, "join": _join, "rejoin": _rejoin}[args.command](args)
    except GridCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 2
    except (OSError, MemoryError) as exc:
        print(f"error: {exc}. Fix: check the paths, free space and permissions", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
