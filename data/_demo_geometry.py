"""Geometry of the synthetic demo district (helper of ``data/make_demo.py``).

Everything here works in the metric delivery CRS (EPSG:4548, metres) and is driven by one
``numpy.random.Generator`` so that a fixed seed gives the same coordinates on every run.

The hierarchy is built bottom-up from one planar partition: the street outline, a river,
arterial roads, village roads and a dense urban street net are noded together and polygonized
into *faces*. Faces are grouped into communities and then into grids; every polygon of every
level is the coverage union of whole faces, so all levels share exactly the same vertices and
children tile their parent with no gap and no overlap by construction.

This module gathers the geometry's public names; each job lives in a sibling module:
``_demo_outline`` (street outline), ``_demo_roads`` (cutting lines), ``_demo_faces`` (planar
partition), ``_demo_partition`` (contiguous groups of faces) and ``_demo_footprints``
(building footprints).
"""

from __future__ import annotations

from _demo_faces import Faces, faces_of, union_faces
from _demo_footprints import block_buildings, courtyards
from _demo_outline import STREET_AREA_M2, outline
from _demo_partition import partition
from _demo_roads import STEP_M, road_network, wiggly_line

__all__ = ["STEP_M", "STREET_AREA_M2", "Faces", "block_buildings", "courtyards", "faces_of", "outline",
           "partition", "road_network", "union_faces", "wiggly_line"]
