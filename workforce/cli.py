"""``python -m workforce patrol``: patrol coverage per grid for one ISO week from a track file.

::

    python -m workforce patrol --tracks FILE.csv|FILE.gpx --week 2026-W27 --out FILE.csv
                               [--hierarchy H.gpkg] [--radius-m 50]

Writes one row per grid (``grid_code, buildings, covered, coverage, fixes``; coverage 0..1) and
prints the counts of gaps and impossible speeds on stderr. Exit 0, or 2 with a one-line error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.errors import GridCommandError
from core.settings import load_settings
from core.spreadsheet import write_table
from geo import read_hierarchy
from workforce.patrol import RADIUS_M, check_tracks, iso_week, patrol_coverage
from workforce.track_files import read_track_file


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m workforce``."""
    parser = argparse.ArgumentParser(prog="python -m workforce", description="Grid workers in the field (工作通)")
    sub = parser.add_subparsers(dest="command", required=True)
    patrol = sub.add_parser("patrol", help="patrol coverage per grid for one week from GPS tracks")
    patrol.add_argument("--tracks", type=Path, required=True, help="CSV (工号, 时间, 经度, 纬度) or GPX")
    patrol.add_argument("--week", required=True, help="ISO week, e.g. 2026-W27 (local time)")
    patrol.add_argument("--out", type=Path, required=True, help="coverage CSV to write")
    patrol.add_argument("--hierarchy", type=Path, default=None, help="hierarchy.gpkg (default: the configured one)")
    patrol.add_argument("--radius-m", type=float, default=RADIUS_M, help="metres from a fix to a building")
    return parser


def _patrol(args: argparse.Namespace) -> int:
    settings = load_settings()
    path = args.hierarchy or settings.hierarchy_path
    if not Path(path).is_file():
        print(f"error: {path}: hierarchy file not found. Fix: build it with `python -m geo build ...` "
              "or pass --hierarchy", file=sys.stderr)
        return 2
    start, end = iso_week(args.week)
    fixes = read_track_file(args.tracks)
    week = fixes.loc[(fixes["at"] >= start) & (fixes["at"] < end)]
    checked = check_tracks(week, metric_crs=settings.metric_crs)
    layers = read_hierarchy(path)
    table = patrol_coverage(layers["buildings"], layers["grids"], checked.usable, radius_m=args.radius_m,
                            metric_crs=settings.metric_crs)
    write_table(table, args.out, fmt="csv")
    print(f"{args.tracks}: {len(week)} fixes in {args.week} ({len(fixes) - len(week)} outside it), "
          f"{checked.gaps} gaps over 15 min, {checked.impossible} impossible speeds (not used)", file=sys.stderr)
    covered = int((table["covered"] > 0).sum())
    print(f"{args.out}: {len(table)} grids, {covered} with covered buildings")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; 0 ok, 2 with a one-line error on stderr."""
    args = build_parser().parse_args(argv)
    try:
        return _patrol(args)
    except GridCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2
