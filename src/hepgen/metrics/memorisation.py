"""Data copying: distances of generated and of held-out events to their nearest training event.

A generator that replays its training events (a B-VAE buffer with tiny widths nearly does)
scores perfectly on every fidelity metric; this test tells it apart (Meehan, Chaudhuri and
Dasgupta, "A non-parametric test to detect data-copying in generative models",
arXiv:2004.05675).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from hepgen.errors import HepgenError
from hepgen.metrics.bootstrap import entry, nan_std
from hepgen.metrics.inputs import as_table, check_events, check_finite

__all__ = [
    "MIN_EVENTS_PER_CELL",
    "CopyingTest",
    "copying_entries",
    "copying_statistics",
    "data_copying",
    "mann_whitney_z",
]

METRIC = "data copying"
#: Events of each sample a cell needs to enter the three-sample statistic.
MIN_EVENTS_PER_CELL = 5
#: Test events per cell aimed at when the number of cells is chosen.
EVENTS_PER_CELL = 20
#: Training events the k-means cells are fitted on, at most.
MAX_CELL_FIT = 20_000


def mann_whitney_z(reference: np.ndarray, query: np.ndarray) -> float:
    """Z score of the Mann-Whitney U statistic that ``query`` values exceed ``reference`` values.

    Arguments:
        reference: shape ``(n,)``.
        query: shape ``(m,)``.

    Returns:
        ``(U - m n / 2) / sqrt(m n (m + n + 1) / 12)`` with ``U = #{(i, j): query_i >
        reference_j}`` (ties count one half); negative when ``query`` is smaller.
    """
    m, n = len(query), len(reference)
    ranks = rankdata(np.concatenate([query, reference]))
    u = ranks[:m].sum() - m * (m + 1) / 2.0
    return float((u - m * n / 2.0) / np.sqrt(m * n * (m + n + 1) / 12.0))


class CopyingTest:
    """Nearest-training-event distances of a test sample, fixed once; queries compared to it.

    Arguments:
        train: training events in the model's transformed space, shape ``(t, d)``.
        test: held-out events, shape ``(n, d)``.
        seed: seeds the k-means cells.
        cells: most cells; fewer are used when the test sample is small (about
            :data:`EVENTS_PER_CELL` test events per cell).
    """

    def __init__(self, train: np.ndarray, test: np.ndarray, *, seed: int, cells: int) -> None:
        train = np.asarray(train, dtype=np.float64)
        self.neighbours = NearestNeighbors(n_neighbors=1).fit(train)
        k = max(1, min(int(cells), len(test) // EVENTS_PER_CELL))
        rng = np.random.default_rng(seed)
        fit_on = train[rng.permutation(len(train))[:MAX_CELL_FIT]]
        self.cells = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(fit_on)
        self.test_distance, self.test_cell = self.locate(test)

    def locate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance to the nearest training event and k-means cell of each event of ``x`` (m, d)."""
        x = np.asarray(x, dtype=np.float64)
        distance, _ = self.neighbours.kneighbors(x)
        return distance[:, 0], self.cells.predict(x)


def copying_statistics(
    test_distance: np.ndarray,
    test_cell: np.ndarray,
    query_distance: np.ndarray,
    query_cell: np.ndarray,
) -> dict[str, float]:
    """The three-sample statistic C_T and the median distance ratio of a query sample.

    Arguments:
        test_distance: nearest-training-event distances of the test events, shape ``(n,)``.
        test_cell: their cells, shape ``(n,)``.
        query_distance: the same for the queried (generated) events, shape ``(m,)``.
        query_cell: their cells, shape ``(m,)``.

    Returns:
        ``{"z_u": C_T, "distance_ratio": median(query) / median(test)}``; ``z_u`` is the
        test-weighted mean over cells holding at least :data:`MIN_EVENTS_PER_CELL` of both
        samples of the Mann-Whitney Z score, or NaN when no cell qualifies.
    """
    scores, weights = [], []
    for cell in np.unique(test_cell):
        ref, query = test_distance[test_cell == cell], query_distance[query_cell == cell]
        if min(len(ref), len(query)) >= MIN_EVENTS_PER_CELL:
            scores.append(mann_whitney_z(ref, query))
            weights.append(len(ref))
    z = float(np.average(scores, weights=weights)) if scores else float("nan")
    ratio = float(np.median(query_distance) / np.median(test_distance))
    return {"z_u": z, "distance_ratio": ratio}


def data_copying(
    train: ArrayLike,
    test: ArrayLike,
    generated: ArrayLike,
    *,
    seed: int = 0,
    cells: int = 10,
) -> dict[str, float]:
    """Three-sample data-copying test of Meehan et al. (arXiv:2004.05675).

    Every test and generated event gets the Euclidean distance to its nearest training event.
    Generated events that are copies lie closer than test events do: per k-means cell of the
    training set the Mann-Whitney Z score of generated against test distances is computed and
    averaged with the test-event fraction as weight (C_T). C_T is about 0 (unit spread) for a
    generator that does not copy, strongly negative for one that copies and positive for one
    that misses the training set. The median distance ratio is about 1 without copying.

    Arguments:
        train: training events, shape ``(t, d)``, in the model's transformed space (so every
            feature has a comparable scale).
        test: held-out events, shape ``(n, d)``.
        generated: generated events, shape ``(m, d)``.
        seed: seeds the cells.
        cells: most k-means cells (about 20 test events per cell are kept).

    Returns:
        ``{"z_u", "distance_ratio"}``; see :func:`copying_statistics`.
    """
    arrays = {}
    for role, data, needed in (
        ("training", train, MIN_EVENTS_PER_CELL),
        ("test", test, MIN_EVENTS_PER_CELL),
        ("generated", generated, MIN_EVENTS_PER_CELL),
    ):
        table = as_table(data, features=None, metric=METRIC, role=role)
        check_finite(table, metric=METRIC, role=role)
        check_events(len(table), needed, metric=METRIC, role=role)
        arrays[role] = table.to_numpy()
    widths = {role: x.shape[1] for role, x in arrays.items()}
    if len(set(widths.values())) != 1:
        msg = f"{METRIC}: the samples must have the same number of features, found {widths}"
        raise HepgenError(msg)
    test_run = CopyingTest(arrays["training"], arrays["test"], seed=seed, cells=cells)
    query = test_run.locate(arrays["generated"])
    return copying_statistics(test_run.test_distance, test_run.test_cell, *query)


def copying_entries(
    train: np.ndarray,
    test: np.ndarray,
    queries: Mapping[str, np.ndarray],
    *,
    seed: int,
    cells: int,
    bootstrap: int,
) -> dict[str, dict[str, float]]:
    """The data-copying statistics of generated events (``value``) and of held-out truth
    events (``floor``), with bootstrap uncertainties.

    Arguments:
        train: training events in transformed space, shape ``(t, d)``.
        test: held-out truth events (half A), shape ``(n, d)``.
        queries: ``{"value": generated (m, d), "floor": truth half B (m, d)}``.
        seed: seeds the cells and the resamples.
        cells: most k-means cells.
        bootstrap: resamples of the test and query distances.

    Returns:
        ``{"z_u": entry, "distance_ratio": entry}`` (see :func:`copying_statistics`).
    """
    run = CopyingTest(train, test, seed=seed, cells=cells)
    rng = np.random.default_rng([seed, 2])
    parts: dict[str, list[float]] = {"z_u": [], "distance_ratio": []}
    for key in ("value", "floor"):
        distance, cell = run.locate(queries[key])
        stats = copying_statistics(run.test_distance, run.test_cell, distance, cell)
        replicates = []
        for _ in range(bootstrap):
            it = rng.integers(0, len(run.test_distance), len(run.test_distance))
            iq = rng.integers(0, len(distance), len(distance))
            replicates.append(
                copying_statistics(run.test_distance[it], run.test_cell[it], distance[iq], cell[iq])
            )
        for name in parts:
            if not np.isfinite(stats[name]):
                msg = (
                    f"{METRIC}: too few events per k-means cell for the three-sample test "
                    f"({len(run.test_distance)} test events in {run.cells.n_clusters} cells); "
                    "evaluate more test events or fewer cells (evaluate.memorisation.cells)"
                )
                raise HepgenError(msg)
            spread = nan_std(np.array([r[name] for r in replicates]))
            parts[name] += [stats[name], float(spread)]
    return {name: entry(*values) for name, values in parts.items()}
