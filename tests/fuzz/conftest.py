"""Hypothesis profiles of the fuzz tests, chosen by the ``HYPOTHESIS_PROFILE`` environment variable.

``ci`` (the default) is moderate and derandomised, so a CI run is reproducible; ``bench`` and
``deep`` run 5 and 25 times as many examples with fresh randomness. No profile keeps an example
database, and Hypothesis' own caches go to the temp directory, so nothing is written into the tree.
Each test sizes its examples with :func:`tests.fuzz.helpers.examples`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gridcommand-hypothesis")

_COMMON = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}

settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("bench", **_COMMON)
settings.register_profile("deep", **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
