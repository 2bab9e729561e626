"""Metrics comparing generated events with held-out truth, each with a truth-vs-truth floor."""

from __future__ import annotations

from hepgen.metrics.classifier import classifier_auc, make_classifier
from hepgen.metrics.evaluate import evaluate, summary, write_metrics
from hepgen.metrics.inputs import Weights
from hepgen.metrics.wasserstein import w1_distances, weighted_std

__all__ = [
    "Weights",
    "classifier_auc",
    "evaluate",
    "make_classifier",
    "summary",
    "w1_distances",
    "weighted_std",
    "write_metrics",
]
