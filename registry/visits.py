"""The on-site rule of a visit (在场走访): the worker's GPS fix within ``VISIT_ON_SITE_M`` of the
household, measured in a metric CRS."""

from __future__ import annotations

from dataclasses import dataclass

from core import constants
from geo.distance import distance_m


@dataclass(frozen=True)
class VisitPlace:
    """A position in EPSG:4490 degrees; either coordinate may be missing (no GPS fix)."""

    lon: float | None
    lat: float | None

    @property
    def known(self) -> bool:
        """Both coordinates are present."""
        return self.lon is not None and self.lat is not None


@dataclass(frozen=True)
class VisitCheck:
    """A visit's distance to the household (metres, 0.1 m; None without a fix) and whether it counts
    as on site."""

    distance_m: float | None
    on_site: bool


def measure_visit(fix: VisitPlace, household: VisitPlace, *, metric_crs: str = constants.DEFAULT_METRIC_CRS,
                  on_site_m: float = constants.VISIT_ON_SITE_M) -> VisitCheck:
    """The distance between a visit's fix and the household, and the on-site verdict.

    A visit without a fix (or a household without a location) has no distance and is not on site.
    """
    if not (fix.known and household.known):
        return VisitCheck(None, False)
    metres = round(distance_m(fix.lon, fix.lat, household.lon, household.lat, metric_crs=metric_crs), 1)  # type: ignore[arg-type]
    return VisitCheck(metres, metres <= on_site_m)
