"""Running the demo generator as a user would (a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MAKE_DEMO = PROJECT_ROOT / "data" / "make_demo.py"


def run_make_demo(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the generator as a user would, in a fresh interpreter."""
    return subprocess.run([sys.executable, str(MAKE_DEMO), "--out", str(out), *extra],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
                          check=False)
