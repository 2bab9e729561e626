"""Training: the shared loop that fits every model, its options, epochs, selection and state.

Models (:mod:`hepgen.models`) say how one step goes (``loss``, ``train_step``); this package
runs the steps: :func:`train_model` batches the events, validates, selects the best epoch and
writes the resumable state. Nothing in :mod:`hepgen.models` imports this package.
"""

from hepgen.training.loop import sampled_metric, train_model, validation_loss
from hepgen.training.options import TrainConfig
from hepgen.training.run import Callback
from hepgen.training.selection import Criterion
from hepgen.training.state import TrainingInterrupted, state_path_for

__all__ = [
    "Callback",
    "Criterion",
    "TrainConfig",
    "TrainingInterrupted",
    "sampled_metric",
    "state_path_for",
    "train_model",
    "validation_loss",
]
