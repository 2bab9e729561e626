"""Options of the shared training loop (the config's ``training`` section)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hepgen.errors import HepgenError
from hepgen.models.params import check_fields, options_from_dict

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Options of the shared training loop (config key ``training``).

    Attributes:
        epochs: maximum number of passes over the training set.
        batch_size: events per optimiser step; must not exceed the training set.
        lr: Adam learning rate (of every optimiser of the model).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        seed: seeds the batch order, the model's noise and the selection draws.
        schedule: learning-rate schedule: ``"cosine"`` (to 0 over ``epochs``), ``"plateau"``
            (halve after 10 epochs without validation improvement) or ``"constant"``.
        patience: stop when this many epochs passed since the best one; 0 trains all epochs.
        weight_decay: Adam L2 penalty.
        amp: mixed precision (bf16, or fp16 with gradient scaling) on CUDA; ignored on CPU.
        select_by: best-epoch criterion, the lowest winning; the sampled ones compare as many
            generated events as validation events (at most 50 000) in transformed space
            (:mod:`hepgen.training.selection`): ``"metric"`` (mean over features of the
            1-Wasserstein distance), ``"chi2"`` (mean over features of the histogram
            chi2/ndf on 40 bins of the validation range; Lebese), ``"ks"`` (mean over
            features of the Kolmogorov-Smirnov distance), ``"spearman"`` (mean absolute
            difference of the Spearman rank-correlation matrices; ``ks`` and ``spearman`` are
            Stevenson's comparisons), or ``"val_loss"``.
        select_every: compute the sampled criterion every this many epochs (and at the last
            epoch); the history records ``metric`` and, when selecting by another sampled
            criterion, a column of that name.
        checkpoint_every: write the resumable state every this many epochs; 0 only on
            SIGTERM/SIGINT.
        compile: compile the loss and its gradient with ``torch.compile`` (about 10-35 s
            once per run; then faster steps, most for small networks); models with their
            own step (GAN, VAE+D) are trained eagerly.
        stream_buffer: 0 trains on the training split in memory; N > 0 streams it from its
            Parquet row groups through a shuffling buffer of N events
            (:class:`hepgen.training.stream.EventStream`), so memory does not grow with it.
        stream_reservoir: when streaming, a seeded uniform sample of this many training
            events stands in for the whole split where the loop needs it at once: the
            sampled selection metric, ``prepare_sampling`` (e.g. the B-VAE buffer) and the
            fit of a model that is not trained by gradient descent (BGMM).
        weights: how the events' ``weight`` column enters the losses: ``"events"`` as it is,
            ``"per_condition"`` (conditional models) divided by its mean in cells of the
            conditions (:func:`hepgen.preprocessing.condition.per_condition_weights`), so a
            region that stitched slices populate counts by its events, or ``"none"``.
    """

    epochs: int = field(default=150, metadata={"min": 1})
    batch_size: int = field(default=1024, metadata={"min": 1})
    lr: float = field(default=1e-3, metadata={"gt": 0.0})
    device: str = field(default="auto", metadata={"choices": ("auto", "cpu", "cuda")})
    seed: int = field(default=0, metadata={"min": 0})
    schedule: str = field(default="cosine", metadata={"choices": ("cosine", "plateau", "constant")})
    patience: int = field(default=0, metadata={"min": 0})
    weight_decay: float = field(default=0.0, metadata={"min": 0.0})
    amp: bool = True
    select_by: str = field(
        default="metric",
        metadata={"choices": ("metric", "chi2", "ks", "spearman", "val_loss")},
    )
    select_every: int = field(default=5, metadata={"min": 1})
    checkpoint_every: int = field(default=10, metadata={"min": 0})
    compile: bool = False
    stream_buffer: int = field(default=0, metadata={"min": 0})
    stream_reservoir: int = field(default=100_000, metadata={"min": 1})
    weights: str = field(
        default="events", metadata={"choices": ("events", "per_condition", "none")}
    )

    def __post_init__(self) -> None:
        check_fields(self, "training")
        if self.stream_buffer and self.weights != "events":
            msg = (
                f"training: key 'weights' {self.weights!r} cannot be combined with "
                "'stream_buffer' (a streamed split takes its weights as they are)"
            )
            raise HepgenError(msg)
        if self.select_by != "val_loss" and 0 < self.patience < self.select_every:
            msg = (
                f"training: key 'patience' ({self.patience}) must be 0 or at least "
                f"'select_every' ({self.select_every}) when select_by is {self.select_by!r}"
            )
            raise HepgenError(msg)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> TrainConfig:
        """Build from the config's ``training`` mapping (plus ``seed``), refusing unknown keys."""
        return options_from_dict(cls, values, "training")
