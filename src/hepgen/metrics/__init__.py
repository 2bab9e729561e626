"""Metrics comparing generated events with held-out truth, each with a truth-vs-truth floor.

Names load on first use (:mod:`hepgen.lazy`): a figure job imports only what its figure needs.
"""

from __future__ import annotations

from hepgen.lazy import lazy_attributes

# a name of its own submodule: bound here, before any import can rebind it to the module
from hepgen.metrics.binned import binned as binned

_WHERE = {
    "EvaluateOptions": "hepgen.metrics.options",
    "ResponseColumns": "hepgen.metrics.response",
    "Weights": "hepgen.metrics.inputs",
    "chi2_ndf": "hepgen.metrics.binned",
    "classifier_auc": "hepgen.metrics.classifier",
    "classifier_test": "hepgen.metrics.classifier",
    "conditional_w1": "hepgen.metrics.conditional",
    "data_copying": "hepgen.metrics.memorisation",
    "evaluate": "hepgen.metrics.evaluation",
    "fpd": "hepgen.metrics.frechet",
    "frechet_distance": "hepgen.metrics.frechet",
    "histogram_edges": "hepgen.metrics.binned",
    "kpd": "hepgen.metrics.kernel",
    "ks_statistics": "hepgen.metrics.ks",
    "make_classifier": "hepgen.metrics.classifier",
    "observables": "hepgen.preprocessing.observables",
    "quantile_mse": "hepgen.metrics.quantiles",
    "response_metrics": "hepgen.metrics.response",
    "sampling_record": "hepgen.metrics.record",
    "separation_power": "hepgen.metrics.binned",
    "spearman_distance": "hepgen.metrics.correlation",
    "spearman_matrix": "hepgen.metrics.correlation",
    "summary": "hepgen.metrics.record",
    "tail_ratios": "hepgen.metrics.tails",
    "w1_distances": "hepgen.metrics.wasserstein",
    "weighted_std": "hepgen.metrics.wasserstein",
    "write_metrics": "hepgen.metrics.record",
}

__all__ = sorted([*_WHERE, "binned"])

__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
