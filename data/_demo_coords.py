"""Coordinates of the demo geometry: everything is rounded to the millimetre (EPSG:4548, metres)."""

from __future__ import annotations

import numpy as np


def round_mm(coords: np.ndarray) -> np.ndarray:
    """``coords`` rounded to the millimetre, so every run writes the same numbers.

    Parameters
    ----------
    coords : numpy.ndarray
        Coordinates in metres.

    Returns
    -------
    numpy.ndarray
        The same coordinates with three decimals.
    """
    return np.round(coords, 3)
