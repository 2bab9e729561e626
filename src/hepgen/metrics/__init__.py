"""Metrics comparing generated events with held-out truth, each with a truth-vs-truth floor."""

from __future__ import annotations

from hepgen.metrics.binned import binned, chi2_ndf, histogram_edges, separation_power
from hepgen.metrics.classifier import classifier_auc, classifier_test, make_classifier
from hepgen.metrics.conditional import conditional_w1
from hepgen.metrics.correlation import spearman_distance, spearman_matrix
from hepgen.metrics.evaluate import evaluate
from hepgen.metrics.frechet import fpd, frechet_distance
from hepgen.metrics.inputs import Weights
from hepgen.metrics.kernel import kpd
from hepgen.metrics.ks import ks_statistics
from hepgen.metrics.memorisation import data_copying
from hepgen.metrics.options import EvaluateOptions
from hepgen.metrics.quantiles import quantile_mse
from hepgen.metrics.record import sampling_record, summary, write_metrics
from hepgen.metrics.response import ResponseColumns, response_metrics
from hepgen.metrics.tails import tail_ratios
from hepgen.metrics.wasserstein import w1_distances, weighted_std
from hepgen.preprocessing.observables import observables

__all__ = [
    "EvaluateOptions",
    "ResponseColumns",
    "Weights",
    "binned",
    "chi2_ndf",
    "classifier_auc",
    "classifier_test",
    "conditional_w1",
    "data_copying",
    "evaluate",
    "fpd",
    "frechet_distance",
    "histogram_edges",
    "kpd",
    "ks_statistics",
    "make_classifier",
    "observables",
    "quantile_mse",
    "response_metrics",
    "sampling_record",
    "separation_power",
    "spearman_distance",
    "spearman_matrix",
    "summary",
    "tail_ratios",
    "w1_distances",
    "weighted_std",
    "write_metrics",
]
