"""Splitting a connected set of faces into contiguous, evenly sized groups (communities, grids)."""

from __future__ import annotations

import heapq
import math

import numpy as np
from _demo_faces import Faces


def _grow(
    members: list[int], seeds: list[int], faces: Faces, scale: list[float] | None = None
) -> dict[int, int]:
    """Multi-source Dijkstra over face adjacency restricted to ``members``: face -> seed slot.

    ``scale[k]`` multiplies the distances travelled from seed ``k`` (a larger scale gives a
    smaller group); each face's predecessor carries the same label, so groups stay connected.
    """
    scale = scale or [1.0] * len(seeds)
    allowed = set(members)
    dist = {m: math.inf for m in members}
    label: dict[int, int] = {}
    heap: list[tuple[float, int, int]] = []
    for slot, s in enumerate(seeds):
        dist[s] = 0.0
        heapq.heappush(heap, (0.0, s, slot))
    while heap:
        d, f, slot = heapq.heappop(heap)
        if f in label:
            continue
        label[f] = slot
        for g in faces.neighbours[f]:
            if g in allowed and g not in label:
                nd = d + faces.steps[f][g] * scale[slot]
                if nd < dist[g]:
                    dist[g] = nd
                    heapq.heappush(heap, (nd, g, slot))
    return label


def _spread_seeds(idx: np.ndarray, n: int, faces: Faces, weights: np.ndarray,
                  min_seed_area: float) -> list[int]:
    """``n`` seed faces by farthest-point sampling, starting next to the weighted centre.

    Only faces of at least ``min_seed_area`` m² are preferred as seeds.
    """
    cents = faces.centroids
    mw = weights[idx]
    centre = (cents[idx] * mw[:, None]).sum(0) / mw.sum()
    big = idx[faces.areas[idx] >= min_seed_area]
    seeds = [int(big[np.argmin(np.hypot(*(cents[big] - centre).T))])]
    mind = np.hypot(*(cents[big] - cents[seeds[0]]).T)
    while len(seeds) < n:
        nxt = int(big[np.argmax(mind)]) if len(seeds) < len(big) else None
        if nxt is None or nxt in seeds:
            nxt = next(int(m) for m in idx if int(m) not in seeds)
        seeds.append(nxt)
        mind = np.minimum(mind, np.hypot(*(cents[big] - cents[nxt]).T))
    return seeds


def _lloyd_seeds(members: list[int], seeds: list[int], faces: Faces, weights: np.ndarray,
                 min_seed_area: float, iterations: int) -> list[int]:
    """Seeds moved by up to ``iterations`` Lloyd steps (each to its group's weighted centre)."""
    cents = faces.centroids
    for _ in range(iterations):
        label = _grow(members, seeds, faces)
        new = []
        for slot in range(len(seeds)):
            grp = np.array([f for f in members if label.get(f) == slot])
            gw = weights[grp]
            c = (cents[grp] * gw[:, None]).sum(0) / gw.sum()
            cand = grp[faces.areas[grp] >= min_seed_area]
            cand = cand if len(cand) else grp
            new.append(int(cand[np.argmin(np.hypot(*(cents[cand] - c).T))]))
        if new == seeds:
            break
        seeds = new
    return seeds


def _balanced_labels(members: list[int], seeds: list[int], faces: Faces, weights: np.ndarray,
                     rounds: int) -> dict[int, int]:
    """The most even labelling found by slowing down seeds whose groups are too big."""
    n = len(seeds)
    scale = [1.0] * n
    best_label, best_spread = None, math.inf
    for _ in range(rounds):
        label = _grow(members, seeds, faces, scale)
        sizes = np.zeros(n)
        for f, slot in label.items():
            sizes[slot] += weights[f]
        spread = float(sizes.max() / max(sizes.min(), 1e-9))
        if spread < best_spread:
            best_label, best_spread = label, spread
        mean = sizes.mean()
        scale = [sc * float((max(sz, 1e-9) / mean) ** 0.35) for sc, sz in zip(scale, sizes,
                                                                             strict=True)]
    return best_label if best_label is not None else _grow(members, seeds, faces)


def _attach_unreached(members: list[int], label: dict[int, int], faces: Faces) -> None:
    """Label in place the faces no seed reached with their longest-edge neighbour's group.

    Raises
    ------
    RuntimeError
        When some faces touch no labelled face at all.
    """
    pending = [f for f in members if f not in label]
    while pending:
        still = []
        for f in pending:
            options = {label[g]: length for g, length in faces.neighbours[f].items() if g in label}
            if options:
                label[f] = max(sorted(options), key=lambda s: options[s])
            else:
                still.append(f)
        if len(still) == len(pending):
            msg = "faces not connected to any group; the partition is broken"
            raise RuntimeError(msg)
        pending = still


def partition(
    members: list[int], n: int, faces: Faces, *, iterations: int = 8,
    balance_rounds: int = 25, weights: np.ndarray | None = None,
) -> list[list[int]]:
    """Split the connected set of faces ``members`` into ``n`` contiguous groups.

    Seeds are spread by farthest-point sampling and moved by a few Lloyd steps (area- or
    ``weights``-weighted); faces go to the nearest seed along the adjacency graph, so every
    group is edge-connected. Faces no seed can reach join their longest-edge neighbour group.

    Parameters
    ----------
    members : list of int
        Face indices to split (edge-connected).
    n : int
        Number of groups.
    faces : Faces
        The planar partition.
    iterations : int, default 8
        Most Lloyd steps.
    balance_rounds : int, default 25
        Rounds of slowing down the seeds of too big groups.
    weights : numpy.ndarray, optional
        Weight per face (default: its area).

    Returns
    -------
    list of list of int
        Face indices of each group, in ``members`` order.

    Raises
    ------
    RuntimeError
        When there are fewer faces than groups or some faces are not connected.
    """
    members = sorted(members)
    if len(members) < n:
        msg = f"only {len(members)} faces for {n} groups; the road network is too sparse"
        raise RuntimeError(msg)
    w = faces.areas if weights is None else weights
    idx = np.array(members)
    min_seed_area = float(np.median(faces.areas[idx])) * 0.5
    seeds = _spread_seeds(idx, n, faces, w, min_seed_area)
    seeds = _lloyd_seeds(members, seeds, faces, w, min_seed_area, iterations)
    label = _balanced_labels(members, seeds, faces, w, balance_rounds)
    _attach_unreached(members, label, faces)
    groups: list[list[int]] = [[] for _ in range(n)]
    for f in members:
        groups[label[f]].append(f)
    return groups
