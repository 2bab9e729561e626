"""Every one-dimensional metric of every column, with bootstrap uncertainties, in one pass."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hepgen.metrics.binned import chi2_ndf_replicas, separation_power_replicas
from hepgen.metrics.bootstrap import Resamples, entry, nan_std
from hepgen.metrics.ks import ks_replicas
from hepgen.metrics.quantiles import quantile_mse_replicas
from hepgen.metrics.replicas import ReplicaPair, Replicas, draw_counts
from hepgen.metrics.tails import tail_ratio_replicas
from hepgen.metrics.wasserstein import w1_replicas

__all__ = ["FEATURE_FAMILIES", "Kernel", "MarginalResult", "Sample", "compare_marginals", "kernels"]

#: A 1D metric of every pair of truth and generated replicas, ``kernel(pair) -> (R,)`` (NaN
#: where undefined); see :class:`~hepgen.metrics.replicas.ReplicaPair`.
Kernel = Callable[[ReplicaPair], np.ndarray]
#: Families computed for every input feature, in report order.
FEATURE_FAMILIES = (
    "w1",
    "ks",
    "separation",
    "chi2_ndf",
    "quantile_mse",
    "tail_99",
    "tail_999",
)
#: Events each sample needs in a column (after dropping undefined values) for a metric.
MIN_DEFINED = 10
#: Most elements of one (replicas x events of both samples) array: bounds the memory.
CHUNK_ELEMENTS = 1 << 22


def kernels(*, bins: int, quantiles: int) -> dict[str, Kernel]:
    """The 1D metric of each family in :data:`FEATURE_FAMILIES`.

    Arguments:
        bins: histogram bins (separation power, chi2/ndf).
        quantiles: truth quantiles of the quantile MSE*.

    Returns:
        ``{family: kernel}``.
    """
    return {
        "w1": w1_replicas,
        "ks": ks_replicas,
        "separation": functools.partial(separation_power_replicas, bins=bins),
        "chi2_ndf": functools.partial(chi2_ndf_replicas, bins=bins),
        "quantile_mse": functools.partial(quantile_mse_replicas, quantiles=quantiles),
        "tail_99": functools.partial(tail_ratio_replicas, level=0.99),
        "tail_999": functools.partial(tail_ratio_replicas, level=0.999),
    }


@dataclass(frozen=True)
class Sample:
    """Events of one sample: values ``(n, c)`` (NaN = undefined for that event) and weights."""

    values: np.ndarray
    weights: np.ndarray | None = None

    def rows(self, index: np.ndarray) -> Sample:
        """The events at ``index`` (with repetition)."""
        return Sample(self.values[index], None if self.weights is None else self.weights[index])

    def column(self, c: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Defined values of column ``c`` and their weights."""
        values = self.values[:, c]
        keep = ~np.isnan(values)
        if keep.all():
            return values, self.weights
        return values[keep], None if self.weights is None else self.weights[keep]


@dataclass(frozen=True)
class MarginalResult:
    """Metric values ``(F, C)`` per comparison and their bootstrap replicates ``(B, F, C)``."""

    families: tuple[str, ...]
    columns: tuple[str, ...]
    values: Mapping[str, np.ndarray]
    replicates: Mapping[str, np.ndarray]

    def family(self, name: str, groups: Mapping[str, Sequence[str]]) -> dict:
        """The entries of one family: per column of each group, and their mean.

        A column enters only where both the value and the floor are defined (e.g. a tail
        ratio needs truth events above the quantile).

        Arguments:
            name: the family.
            groups: ``{"features": [columns], "observables": [columns]}``, a subset of
                :attr:`columns`.

        Returns:
            ``{group: {column: entry}, ..., "mean": entry}``; ``"skipped": [columns]`` is added
            when some were undefined. ``"mean"`` is absent when no column is defined.
        """
        f = self.families.index(name)
        out: dict = {}
        used, skipped = [], []
        for group, names in groups.items():
            out[group] = {}
            for column in names:
                c = self.columns.index(column)
                if np.isfinite(self.values["value"][f, c]) and np.isfinite(
                    self.values["floor"][f, c]
                ):
                    out[group][column] = self._entry(f, [c])
                    used.append(c)
                else:
                    skipped.append(column)
        if used:
            out["mean"] = self._entry(f, used)
        if skipped:
            out["skipped"] = skipped
        return out

    def _entry(self, f: int, columns: list[int]) -> dict[str, float]:
        parts = []
        for key in ("value", "floor"):
            value = float(np.mean(self.values[key][f, columns]))
            replicates = self.replicates[key][:, f, columns]
            with np.errstate(invalid="ignore"):
                means = np.where(
                    np.isfinite(replicates).all(axis=1), replicates.mean(axis=1), np.nan
                )
            parts += [value, float(nan_std(means))]
        return entry(*parts)


def compare_marginals(
    reference: Sample,
    others: Mapping[str, Sample],
    columns: Sequence[str],
    metric_kernels: Mapping[str, Kernel],
    *,
    indices: Mapping[str, Resamples],
    splits: Mapping[str, Resamples] | None = None,
    applies: Mapping[str, Sequence[str]] | None = None,
) -> MarginalResult:
    """Every kernel on every column, for the samples (or their splits) and each bootstrap resample.

    A split or resample enters as the draw count of each event
    (:mod:`hepgen.metrics.replicas`), so each column is sorted once for all of them.

    Arguments:
        reference: the truth half A, values of shape ``(n, c)``; with ``splits``, the truth.
        others: ``{"value": generated, "floor": truth half B}``, values of shape ``(m, c)``;
            with ``splits``, the pools the splits draw from (generated events, the truth).
        columns: names of the ``c`` columns.
        metric_kernels: ``{family: kernel}``.
        indices: ``{"value": resamples, "floor": resamples}`` of (reference, other) rows.
        splits: ``{"value": splits, "floor": splits}``: (reference, other) rows of each
            comparison whose metrics are averaged into the value (``None``: the samples
            themselves). Averaging a metric over random splits of the same events estimates
            its expectation at this sample size with less noise than one split.
        applies: ``{family: columns}`` restricting a family to some columns (default: all).

    Returns:
        The values and replicates; NaN where a family does not apply or is undefined (in every
        split).
    """
    families = tuple(metric_kernels)
    mask = np.ones((len(families), len(columns)), bool)
    for f, family in enumerate(families):
        if applies is not None and family in applies:
            mask[f] = [name in applies[family] for name in columns]
    values, replicates = {}, {}
    for key, other in others.items():
        points = None if splits is None else splits[key]
        counts = [
            draw_counts(
                len(sample.values),
                [pair[side] for pair in indices[key]],
                None if points is None else [pair[side] for pair in points],
            )
            for side, sample in enumerate((reference, other))
        ]
        out = _matrix(reference, other, counts, metric_kernels, mask)
        n_points = 1 if points is None else len(points)
        values[key], replicates[key] = _finite_mean(out[:n_points]), out[n_points:]
    return MarginalResult(families, tuple(columns), values, replicates)


def _finite_mean(rows: np.ndarray) -> np.ndarray:
    """Mean over axis 0 of the finite entries; NaN where none is finite."""
    finite = np.isfinite(rows)
    count = finite.sum(axis=0)
    total = np.where(finite, rows, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _matrix(
    reference: Sample,
    other: Sample,
    counts: list[np.ndarray],
    metric_kernels: Mapping[str, Kernel],
    mask: np.ndarray,
) -> np.ndarray:
    """Kernel values of shape ``(R, F, C)`` for the ``R`` rows of ``counts`` (the samples, then
    the resamples); NaN where masked out or too few events are defined."""
    n_rows = len(counts[0])
    out = np.full((n_rows, *mask.shape), np.nan)
    step = max(1, CHUNK_ELEMENTS // (len(reference.values) + len(other.values)))
    for c in range(mask.shape[1]):
        if not mask[:, c].any():
            continue
        for start in range(0, n_rows, step):
            rows = np.arange(start, min(start + step, n_rows))
            a, b = (
                Replicas.of_column(sample.values[:, c], sample.weights, drawn[rows])
                for sample, drawn in zip((reference, other), counts, strict=True)
            )
            ok = (np.minimum(a.events, b.events) >= MIN_DEFINED) & (a.total > 0) & (b.total > 0)
            if not ok.any():
                continue
            pair = ReplicaPair(a, b)
            if not ok.all():
                pair, rows = pair.rows(ok), rows[ok]
            for f, kernel in enumerate(metric_kernels.values()):
                if mask[f, c]:
                    out[rows, f, c] = kernel(pair)
    return out
