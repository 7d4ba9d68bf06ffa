"""Progress of long work (imports, joins, builds) on a terminal.

A bar on stderr when stderr is a terminal; nothing at all otherwise (pipes, cron jobs, tests), so
scripted use sees only the command's own one-line summary.

Examples
--------
>>> with progress(total=3, desc="import", unit="rows") as bar:
...     for _ in range(3):
...         bar.update(1)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm


def on_terminal(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stderr) is an interactive terminal."""
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress(total: int | None, desc: str, *, unit: str = "rows", stream: TextIO | None = None) -> Iterator[tqdm]:
    """A progress bar for ``total`` units of work (None: unknown total), shown only on a terminal.

    Parameters
    ----------
    total : int or None
        Units of work expected.
    desc : str
        Short label, e.g. ``"import hotline.csv"``.
    unit : str
        What one unit is (``rows``, ``points``, ``features``).
    stream : file, optional
        Where to draw (default stderr); the bar is disabled when it is not a terminal.

    Yields
    ------
    tqdm
        Call ``update(n)`` as work is done.
    """
    stream = stream or sys.stderr
    bar = tqdm(total=total, desc=desc, unit=unit, file=stream, disable=not on_terminal(stream), leave=False,
               dynamic_ncols=True, unit_scale=True)
    try:
        yield bar
    finally:
        bar.close()
