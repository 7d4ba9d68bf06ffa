"""Helpers of the report and big-screen tests: the demo district's hierarchy and a store seeded
with its cases and people (through the real lifecycle, ``demo.seed``)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

#: The demo's "now" in the report tests: the seeded cases run from 2026-09-07 to 2026-11-22.
DEMO_NOW = datetime(2026, 11, 23, 9, 0)


def demo_hierarchy(demo_dir: Path) -> Path:
    """``hierarchy.gpkg`` of the demo district in ``demo_dir`` (built here when absent)."""
    gpkg = demo_dir / "hierarchy.gpkg"
    if not gpkg.exists():
        subprocess.run([sys.executable, "-m", "geo", "build", "--streets", demo_dir / "streets.shp",
                        "--communities", demo_dir / "communities.shp", "--grids", demo_dir / "grids.shp",
                        "--buildings", demo_dir / "buildings.shp", "--out", gpkg, "--report", demo_dir / "report.json"],
                       check=True, capture_output=True)
    return gpkg


def seeded_store(folder: Path, demo_dir: Path, now: datetime) -> str:
    """A migrated SQLite store in ``folder`` seeded with the demo at ``now``; returns its URL."""
    from access.database import open_store
    from demo import seed

    demo_hierarchy(demo_dir)
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = open_store(url)
    seed.seed_demo(engine, demo_dir=demo_dir, now=now, log=lambda message: None)
    engine.dispose()
    return url


def settings_file(folder: Path, demo_dir: Path) -> Path:
    """A ``gridcommand.toml`` in ``folder`` naming the demo district."""
    config = folder / "gridcommand.toml"
    config.write_text(f'demo_dir = "{demo_dir.as_posix()}"\nhierarchy_path = "{demo_hierarchy(demo_dir).as_posix()}"\n',
                      encoding="utf-8")
    return config


def require_poppler() -> None:
    """``pdftotext``, ``pdftoppm``, ``pdffonts`` and ``pdfimages`` (Debian poppler-utils): installed
    as root when missing, else the test is skipped (failed under ``REQUIRE_SYSTEM=1``)."""
    import os
    import shutil

    import pytest

    if shutil.which("pdftoppm") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "poppler-utils"], env=env,
                       capture_output=True, check=False)
    if shutil.which("pdftoppm") is not None:
        return
    reason = "SYSTEM PART MISSING: poppler-utils (pdftoppm, pdftotext); run the tests as root or apt-get install it"
    if os.environ.get("REQUIRE_SYSTEM") == "1":
        pytest.fail(reason + " [REQUIRE_SYSTEM=1 turns this skip into a failure]", pytrace=False)
    pytest.skip(reason)
