"""Generator files: one trained model with everything that turns its outputs into events.

A generator file (``generator.pt``, written beside ``model.pt`` by the workflow) is one dict of
tensors and plain values, loadable with ``torch.load(path, weights_only=True)``:

========================  ======================================================================
key                       content
========================  ======================================================================
``format``, ``version``   ``"hepgen-generator"`` and the layout version (:data:`VERSION`)
``type``, ``params``      the model type and all its hyperparameters
``state_dict``            the network's CPU tensors
``features``              network inputs, in order
``transform``             the fitted transform as a JSON string (:meth:`Transform.to_dict`,
                          event representation included)
``repair``                what :meth:`Transform.postprocess` repairs by: the collections'
                          slots, smallest training pT and fewest objects
``dataset``               the dataset's input description (a ``datasets.<name>`` config
                          entry without ``files``/``simulate``: :meth:`DatasetSpec.from_config`)
``cross_section``         ``{"sigma_pb", "sigma_err_pb", "generated_events", "efficiency"}``,
                          each ``None`` where unknown
``conditions``            ``[]`` for an unconditional model; for a conditional one (layout
                          version 3) its conditioning: ``{"columns": [...], "chains": {...}}``
                          (:meth:`Conditioning.to_dict`), the condition names in the order
                          the network reads them and the fitted chains of those that are not
                          features of the transform
``training``              loop options and ``history`` (one row per epoch)
``provenance``            packaging and training provenance, dataset and model names
``reweighter``            ``None``, or for a model with ``refine`` its k-fold classifiers as node
                          tensors with the clip and the refine stage's record
                          (:meth:`hepgen.weighting.Reweighter.to_state`; layout version 2)
========================  ======================================================================

A reweighter makes :meth:`Generator.sample` return a ``weight`` column: the refine stage's
w = min(p / (1 − p), clip) with p the mean of the k classifiers' probabilities, normalised to
mean 1 over the events of each call (see :meth:`Generator.sample`). The refine stage writes
the classifiers to ``models/<model>/reweighter.npz`` (:func:`save_reweighter`) and packaging
folds that file into ``generator.pt``, so a refined model is still one generator file.

A conditional generator (a model entry with ``condition``) draws events for given condition
values: :meth:`Generator.sample` takes them as a table in physical units and returns every
event beside the values it was drawn for (:mod:`hepgen.condition_draw`). Unconditional files
are written as layout version 2, which hepgen versions before conditional generators read;
conditional ones as version 3, which those refuse by their version check.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from hepgen.checkpoint import _plain, load_checkpoint
from hepgen.condition_draw import (
    RowTagged,
    condition_table,
    event_columns,
    output_columns,
    tagged_draw,
)
from hepgen.errors import HepgenError
from hepgen.files import atomic_path
from hepgen.io.spec import DatasetSpec
from hepgen.models import build
from hepgen.preprocessing import Transform
from hepgen.preprocessing.condition import Conditioning
from hepgen.preprocessing.repair import ObjectLayout
from hepgen.sampling import iter_samples
from hepgen.weighting import Reweighter, load_reweighter, save_reweighter

__all__ = [
    "FORMAT",
    "FORMATS",
    "VERSION",
    "Generator",
    "apply_selection",
    "cross_section_record",
    "event_weight",
    "load_generator",
    "load_reweighter",
    "normalised",
    "save_generator",
    "save_reweighter",
]

log = logging.getLogger(__name__)

FORMAT = "hepgen-generator"
"""Value of the ``format`` key of every generator file."""
VERSION = 3
"""Newest layout version this hepgen writes and reads (1: before the optional ``reweighter``;
2: unconditional files; 3: a conditional model's conditioning under ``conditions``)."""
_UNCONDITIONAL_VERSION = 2
FORMATS = ("pandas", "awkward", "numpy")
"""What :meth:`Generator.sample` can return."""

_KEYS = (
    "type",
    "params",
    "state_dict",
    "features",
    "transform",
    "repair",
    "dataset",
    "cross_section",
    "conditions",
    "training",
    "provenance",
)
_CROSS_SECTION = ("sigma_pb", "sigma_err_pb", "generated_events", "efficiency")


def save_generator(
    path: str | os.PathLike,
    checkpoint: str | os.PathLike,
    transform: Transform,
    dataset: Mapping[str, Any],
    *,
    cross_section: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    reweighter: Reweighter | str | os.PathLike | None = None,
) -> None:
    """Write the generator file of one trained model to ``path`` atomically.

    Arguments:
        path: output file, conventionally ``models/<model>/generator.pt``.
        checkpoint: the model's ``model.pt`` (:func:`hepgen.checkpoint.save_checkpoint`).
        transform: the fitted transform the model was trained on.
        dataset: the dataset's config entry (``files`` and ``simulate`` are left out).
        cross_section: keys of :data:`_CROSS_SECTION`; missing ones are stored as ``None``.
        provenance: e.g. ``{"dataset": ..., "model": ..., "config_hash": ...}``.
        reweighter: the refine stage's classifiers (a :class:`Reweighter` or its
            ``reweighter.npz``), or ``None`` for a model without ``refine``.
    """
    model, meta = load_checkpoint(checkpoint)
    if reweighter is not None and not isinstance(reweighter, Reweighter):
        reweighter = load_reweighter(reweighter)
    if reweighter is not None and reweighter.features != list(transform.columns):
        msg = (
            f"the reweighter was fitted on the columns {reweighter.features}, but the "
            f"transform has {list(transform.columns)}"
        )
        raise HepgenError(msg)
    condition = meta.get("condition") or None
    inputs = list(transform.features)
    if condition is not None:
        inputs = Conditioning.from_dict(condition, transform).inputs
    if inputs != meta["features"]:
        msg = (
            f"checkpoint {os.fspath(checkpoint)} was trained on inputs {meta['features']}, "
            f"but the transform{' and the conditioning' if condition else ''} give {inputs}"
        )
        raise HepgenError(msg)
    entry = {k: v for k, v in dataset.items() if k not in {"files", "simulate"}}
    DatasetSpec.from_config(entry, files=[])  # refuse an entry ingestion could not read
    extra = meta.get("extra", {})
    payload = {
        "format": FORMAT,
        "version": VERSION if condition is not None else _UNCONDITIONAL_VERSION,
        "type": meta["type"],
        "params": meta["params"],
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "features": list(meta["features"]),
        "transform": json.dumps(transform.to_dict()),
        "repair": {"objects": [asdict(o) for o in transform.objects]},
        "dataset": _plain(entry, "dataset"),
        "cross_section": {k: (cross_section or {}).get(k) for k in _CROSS_SECTION},
        "conditions": [] if condition is None else _plain(condition, "conditions"),
        "training": {**meta.get("training", {}), "history": meta.get("history", [])},
        "provenance": _plain(
            {**(provenance or {}), "training": extra.get("provenance")}, "provenance"
        ),
    }
    payload["cross_section"] = _plain(payload["cross_section"], "cross_section")
    payload["reweighter"] = None if reweighter is None else _tensors(reweighter.to_state())
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    log.info(
        "wrote %s generator %s%s", meta["type"], path, " with its reweighter" if reweighter else ""
    )


def _tensors(value: Any) -> Any:
    """``value`` with NumPy arrays as CPU tensors and everything else plain (:func:`_plain`)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.array(value, copy=True))
    if isinstance(value, Mapping):
        return {str(k): _tensors(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tensors(v) for v in value]
    return _plain(value, "reweighter")


def _read(path: str | os.PathLike) -> dict[str, Any]:
    """The checked dict of a generator file; one-line :class:`HepgenError` otherwise."""
    name = os.fspath(path)
    if not Path(name).is_file():
        msg = f"generator file {name} does not exist"
        raise HepgenError(msg)
    try:
        payload = torch.load(name, weights_only=True, map_location="cpu")
    except Exception as err:  # torch raises many types for files it cannot unpickle
        reason = ": ".join([type(err).__name__, *str(err).strip().splitlines()[:1]])
        msg = f"{name} is not a hepgen generator file: torch.load(weights_only=True) refuses it ({reason})"
        raise HepgenError(msg) from err
    found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
    if not isinstance(payload, dict) or found != FORMAT:
        msg = f"{name} is not a hepgen generator file: expected format {FORMAT!r}, found {found!r}"
        raise HepgenError(msg)
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        msg = f"{name}: generator layout version must be a positive integer, found {version!r}"
        raise HepgenError(msg)
    if version > VERSION:
        msg = (
            f"{name} has generator layout version {version}; this hepgen reads version "
            f"{VERSION} (install a newer hepgen)"
        )
        raise HepgenError(msg)
    missing = [key for key in _KEYS if key not in payload]
    if missing:
        msg = f"{name}: generator file lacks keys {missing}"
        raise HepgenError(msg)
    conditions = payload["conditions"]
    if conditions != [] and not (
        version >= 3
        and isinstance(conditions, dict)
        and isinstance(conditions.get("columns"), list)
        and conditions["columns"]
        and all(isinstance(c, str) for c in conditions["columns"])
    ):
        msg = (
            f"{name}: key 'conditions' must be [] or (layout version 3) a conditioning dict "
            f"with a non-empty list 'columns', found {conditions!r:.120} in version {version}"
        )
        raise HepgenError(msg)
    return payload


def load_generator(path: str | os.PathLike) -> Generator:
    """Load a generator file (``weights_only=True``: tensors and plain values only).

    Raises:
        HepgenError: one line naming ``path`` when it does not exist, is not a generator file,
            was written by a newer layout version, or does not rebuild its network.
    """
    payload = _read(path)
    name = os.fspath(path)
    try:
        transform = Transform.from_dict(json.loads(payload["transform"]))
        spec = DatasetSpec.from_config(payload["dataset"], files=[])
        conditioning = None
        if payload["conditions"]:
            conditioning = Conditioning.from_dict(payload["conditions"], transform)
        k = len(conditioning.columns) if conditioning else 0
        model = build(payload["type"], len(payload["features"]), payload["params"], conditions=k)
        model.load_state_dict(payload["state_dict"])
    except (HepgenError, RuntimeError, ValueError, KeyError, TypeError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        msg = f"{name}: cannot rebuild the generator of type {payload['type']!r}: {reason}"
        raise HepgenError(msg) from err
    transform.objects = [ObjectLayout(**o) for o in payload["repair"]["objects"]]
    inputs = conditioning.inputs if conditioning else list(transform.features)
    if inputs != list(payload["features"]):
        msg = f"{name}: the transform gives inputs {inputs}, not the model's {payload['features']}"
        raise HepgenError(msg)
    reweighter = None
    if payload.get("reweighter") is not None:
        try:
            reweighter = Reweighter.from_state(payload["reweighter"])
        except HepgenError as err:
            raise HepgenError(f"{name}: {err}") from err
    return Generator(model.eval(), transform, spec, payload, name, reweighter, conditioning)


class Generator:
    """A trained event generator: draws events in physical units (GeV, rad).

    Attributes:
        model: the network (a :class:`hepgen.models.GeneratorModule`).
        transform: the fitted :class:`hepgen.preprocessing.Transform`.
        features: the network inputs, in order (a conditional model's conditions last).
        columns: the columns of the event tables :meth:`sample` returns: the physical event
            table's, then, for a conditional generator, the ``condition_<name>`` columns and
            ``condition_row`` (:mod:`hepgen.condition_draw`).
        condition_columns: the condition names a conditional generator needs, in physical
            units, in the order the network reads them; ``[]`` when it is unconditional.
        conditioning: the :class:`~hepgen.preprocessing.condition.Conditioning`, or ``None``.
        type: the model type (``"bvae"`` …); ``params`` its hyperparameters.
        spec: the dataset's :class:`hepgen.io.DatasetSpec` (``files`` empty).
        dataset: the dataset's config entry; ``cross_section``, ``training`` (with
            ``history``) and ``provenance`` as stored; ``conditions`` the condition names.
        last_validity: the validity record of the last draw (see :meth:`sample`).
        last_info: the last draw's seed, rate (events/s), device and validity.
        reweighter: the refine stage's classifiers (:class:`hepgen.weighting.Reweighter`), or
            ``None``: a model without ``refine`` draws unweighted events.
    """

    def __init__(
        self,
        model: Any,
        transform: Transform,
        spec: DatasetSpec,
        payload: Mapping[str, Any],
        path: str,
        reweighter: Reweighter | None = None,
        conditioning: Conditioning | None = None,
    ) -> None:
        self.model, self.transform, self.spec, self.path = model, transform, spec, path
        self.reweighter = reweighter
        self.conditioning = conditioning
        self.condition_columns = list(conditioning.columns) if conditioning else []
        self.features = list(payload["features"])
        self.columns = event_columns(conditioning) if conditioning else list(transform.columns)
        self.type, self.params = payload["type"], payload["params"]
        self.dataset = payload["dataset"]
        self.cross_section = payload["cross_section"]
        self.conditions = list(self.condition_columns)
        self.training = payload["training"]
        self.provenance = payload["provenance"]
        self.version = payload["version"]
        self.last_validity: dict[str, Any] | None = None
        self.last_info: dict[str, Any] | None = None

    def __repr__(self) -> str:
        given = f", conditions={self.condition_columns}" if self.conditioning else ""
        return (
            f"Generator(type={self.type!r}, features={len(self.features)}{given}, "
            f"path={self.path!r})"
        )

    def condition_outputs(self) -> dict[str, str]:
        """``{condition: column of the drawn events holding its given value}`` (``{}`` when
        unconditional): its own column for a condition the model does not generate that is
        an event-table column, else ``condition_<name>``."""
        return output_columns(self.conditioning) if self.conditioning else {}

    def _plan(
        self, n: int | None, condition: Any, per_row: bool
    ) -> tuple[int, Any, Any, np.ndarray | None]:
        """Events to draw, the model, the inverse and the condition inputs of one draw."""
        if n is not None and (isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1):
            msg = f"sample: n must be a positive integer, found {n!r}"
            raise HepgenError(msg)
        inverse = lambda x, rng: self.transform.inverse(x, rng=rng)  # noqa: E731
        if self.conditioning is None:
            if condition is not None:
                msg = (
                    f"sample: generator {self.path} is unconditional (it draws p(features)), "
                    "but a condition was given; leave condition=None"
                )
                raise HepgenError(msg)
            if n is None:
                raise HepgenError("sample: give n, the number of events to draw")
            if per_row:
                raise HepgenError("sample: per_row=True needs a condition table")
            return int(n), self.model, inverse, None
        if condition is None:
            msg = (
                f"sample: generator {self.path} is conditional: give condition=, a table "
                f"(DataFrame or dict of arrays) with the columns {self.condition_columns} in "
                "physical units, one event per row (or n per row with per_row=True)"
            )
            raise HepgenError(msg)
        if n is not None and not per_row:
            msg = (
                f"sample: with a condition table, n={n} needs per_row=True (n events per "
                "condition row); leave n=None for one event per row"
            )
            raise HepgenError(msg)
        rows = condition_table(condition, self.conditioning, "sample: condition")
        per = int(n) if n is not None else 1
        inputs, inverse = tagged_draw(self.conditioning, rows, per)
        return len(inputs), RowTagged(self.model), inverse, inputs

    def iter_sample(
        self,
        n: int | None = None,
        *,
        condition: pd.DataFrame | Mapping[str, Any] | None = None,
        per_row: bool = False,
        seed: int | None = None,
        batch_size: int = 100_000,
        device: str = "auto",
        max_removed_fraction: float = 1.0,
    ) -> Iterator[pd.DataFrame]:
        """Yield the events of :meth:`sample` batch by batch as event tables (bounded memory).

        ``n``, ``condition`` and ``per_row`` are :meth:`sample`'s; the condition table is held
        in memory, its events are drawn in batches. With a :attr:`reweighter`, each table has
        a ``weight`` column: min(p / (1 − p), clip) over the refine stage's normalisation
        (:attr:`Reweighter.norm`), mean 1 in expectation but not exactly per batch;
        :meth:`sample` rescales it to mean 1 over its events. ``last_validity`` and
        ``last_info`` are set once the last batch has been consumed (``last_info["events"]``
        the events drawn before removal).
        """
        total, model, inverse, inputs = self._plan(n, condition, per_row)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**31)
        info: dict[str, Any] = {"seed": seed}
        yield from iter_samples(
            model,
            total,
            seed=seed,
            batch_size=batch_size,
            inverse=inverse,
            postprocess=self._postprocess,
            device=device,
            max_removed_fraction=max_removed_fraction,
            info=info,
            conditions=inputs,
        )
        info["drawn"] = total
        self.last_info, self.last_validity = info, info["validity"]

    def sample(
        self,
        n: int | None = None,
        *,
        condition: pd.DataFrame | Mapping[str, Any] | None = None,
        per_row: bool = False,
        seed: int | None = None,
        batch_size: int = 100_000,
        device: str = "auto",
        format: str = "pandas",
        max_removed_fraction: float = 1.0,
    ) -> pd.DataFrame | Any | np.ndarray:
        """Draw events, repaired, with the dataset's selection applied.

        Events are drawn in batches of ``batch_size``, mapped to physical units, repaired
        (:meth:`Transform.postprocess`), and then held to the dataset's object selection
        (``min_pt``, ``max_abs_eta``: failing objects are dropped, later ones move up;
        events with fewer than ``min`` objects are removed). Removed events are counted in
        ``last_validity`` (``removed``; reasons ``non_finite``, ``unusable``,
        ``outside_selection``), so ``N - last_validity["removed"]`` of the N drawn events are
        returned.

        Arguments:
            n: unconditional generator: events to draw (≥ 1). Conditional generator: ``None``
                (one event per condition row), or, with ``per_row=True``, events per row.
            condition: conditional generators only: the condition values in physical units
                (GeV, rad), a DataFrame or a dict of equal-length arrays with one column per
                name of :attr:`condition_columns` (other columns are ignored); its m rows give
                N = m events (m·n with ``per_row``), the events of row i in one block, in order.
            per_row: with ``condition`` and ``n``: draw ``n`` events for every row.
            seed: the same seed, batch size, device (and condition table) give the same
                events; ``None`` draws a fresh seed (recorded in ``last_info["seed"]``).
            batch_size: events per batch; bounds memory.
            device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
            format: ``"pandas"``: a DataFrame with columns :attr:`columns` (float64, GeV and
                rad, absent objects zero-padded; ``condition_row`` int64); ``"awkward"``:
                jagged collections of ``Momentum4D`` records (:func:`hepgen.io.writer.to_awkward`),
                every other column a flat field; ``"numpy"``: a float64 array (events,
                len(columns)).
            max_removed_fraction: raise :class:`HepgenError` when more than this fraction
                of the N drawn events is removed (1.0: never).

        A conditional generator returns every event beside the condition values it was drawn
        for, exactly as given (:meth:`condition_outputs`: the event's own column for a
        condition it does not generate, else ``condition_<name>``), and ``condition_row``,
        the 0-based row of ``condition`` (see :mod:`hepgen.condition_draw`).

        A generator with a :attr:`reweighter` (a model with ``refine``) adds a ``weight``
        column (a field of the awkward records; the last column of the NumPy array): the
        refine stage's w = min(p / (1 − p), clip), p the mean of its k classifiers'
        probabilities, normalised to mean 1 over the events this call returns (so weights of
        two calls differ by their normalisation). Without one there is no ``weight`` column.

        Raises:
            HepgenError: a conditional generator without ``condition`` (naming the columns it
                needs), an unconditional one with one, a condition table lacking columns
                (naming them) or holding NaN/inf, ``n`` with a condition but no ``per_row``.
        """
        if format not in FORMATS:
            msg = f"sample: format must be one of {list(FORMATS)}, found {format!r}"
            raise HepgenError(msg)
        options = {"seed": seed, "batch_size": batch_size, "device": device}
        options |= {"condition": condition, "per_row": per_row}
        batches = list(self.iter_sample(n, max_removed_fraction=max_removed_fraction, **options))
        table = pd.concat(batches, ignore_index=True)
        columns = list(self.columns)
        if self.reweighter is not None:
            table["weight"] = normalised(table["weight"].to_numpy(np.float64))
            columns += [] if "weight" in columns else ["weight"]
        if format == "awkward":
            from hepgen.io.writer import to_awkward

            return to_awkward(table, self.spec)
        if format == "numpy":
            return table[columns].to_numpy(np.float64)
        return table

    def _postprocess(self, table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        """:meth:`Transform.postprocess`, then the dataset's object selection."""
        table, validity = self.transform.postprocess(table)
        table, removed = apply_selection(table, self.spec)
        if self.reweighter is not None:
            ratio = self.reweighter.ratio(table) if len(table) else np.empty(0)
            table = table.assign(weight=ratio / self.reweighter.norm)
        if removed:
            validity = {
                **validity,
                "removed": validity["removed"] + removed,
                "reasons": {**validity["reasons"], "outside_selection": removed},
            }
        return table, validity


def cross_section_record(
    ntuple_stats: list[Mapping[str, Any]],
    ingest_stats: Mapping[str, Any] | None = None,
    removed_by_cuts: float = 0.0,
) -> dict[str, Any]:
    """The ``cross_section`` entry of a generator file from generation and ingestion records.

    Arguments:
        ntuple_stats: one record per input file (the ``.json`` beside a simulated chunk:
            ``events``, ``sigma_pb``, ``sigma_err_pb``, and ``slice`` for a chunk of a stitched
            sample); σ is known only when every file has one.
        ingest_stats: the ingestion record (``entries`` read, ``events`` kept, ``weight_sum``
            of the kept events' weights) or ``None``.
        removed_by_cuts: the fraction of the ingested events the tail cuts removed.

    Returns:
        ``sigma_pb``, ``sigma_err_pb`` (assuming independent files), ``generated_events`` and
        ``efficiency`` (the fraction of σ kept by the selection and the tail cuts); ``None``
        where unknown. Files of one phase-space region are combined as the event-weighted
        mean of their σ; the disjoint slices of a stitched sample (``simulate.slices``) add
        up, and its efficiency is the kept events' weight sum (weights in pb) over σ.
    """
    record: dict[str, Any] = dict.fromkeys(_CROSS_SECTION)
    known = ntuple_stats and all(s.get("sigma_pb") is not None for s in ntuple_stats)
    stitched = bool(ntuple_stats) and all(s.get("slice") is not None for s in ntuple_stats)
    if known:
        regions: dict[int | None, list[Mapping[str, Any]]] = {}
        for s in ntuple_stats:
            regions.setdefault(s["slice"]["index"] if stitched else None, []).append(s)
        sigma = variance = 0.0
        for files in regions.values():
            counts = np.array([float(s.get("events", 1)) for s in files])
            share = counts / counts.sum()
            sigma += float(share @ np.array([float(s["sigma_pb"]) for s in files]))
            errors = np.array([float(s.get("sigma_err_pb") or 0.0) for s in files])
            variance += float(share**2 @ errors**2)
        record["sigma_pb"] = sigma
        record["sigma_err_pb"] = float(np.sqrt(variance))
        record["generated_events"] = int(sum(float(s.get("events", 1)) for s in ntuple_stats))
    if stitched and known and ingest_stats and ingest_stats.get("weight_sum") is not None:
        kept = float(ingest_stats["weight_sum"]) / record["sigma_pb"]
        record["efficiency"] = float(kept * (1.0 - removed_by_cuts))
    elif not stitched and ingest_stats and ingest_stats.get("entries"):
        kept = ingest_stats["events"] / ingest_stats["entries"]
        record["efficiency"] = float(kept * (1.0 - removed_by_cuts))
    if ingest_stats and ingest_stats.get("entries"):
        record["generated_events"] = record["generated_events"] or int(ingest_stats["entries"])
    return record


def apply_selection(table: pd.DataFrame, spec: DatasetSpec) -> tuple[pd.DataFrame, int]:
    """Hold a table to the object selection of ``spec`` as ingestion applies it.

    Per collection, a present object (pT > 0) is kept when pT > ``min_pt`` and |η| <
    ``max_abs_eta``, compared in float32 as a written ntuple holds them; dropped objects leave
    the later ones moving up a slot (zero padding at the end); ``n_<name>`` becomes the number
    kept where that is below the padding size. Events with fewer than ``min`` kept objects are
    removed.

    Returns:
        The selected table (index reset) and the number of events removed.
    """
    keep_events = np.ones(len(table), dtype=bool)
    table = table.copy()
    for obj in spec.objects:
        names = {f: [f"{obj.name}{k}_{f}" for k in range(1, obj.max + 1)] for f in ("pt", "eta")}
        if any(c not in table for c in names["pt"] + names["eta"]):
            continue
        pt = table[names["pt"]].to_numpy(np.float64)
        eta = table[names["eta"]].to_numpy(np.float64)
        keep = pt.astype(np.float32).astype(np.float64) > obj.min_pt
        if obj.max_abs_eta is not None:
            keep &= np.abs(eta.astype(np.float32).astype(np.float64)) < obj.max_abs_eta
        count = keep.sum(axis=1)
        keep_events &= count >= obj.min
        if (keep | (pt <= 0)).all():
            continue  # no present object dropped
        order = np.argsort(~keep, axis=1, kind="stable")  # kept objects first, in slot order
        present = np.take_along_axis(keep, order, axis=1)
        fields = ("pt", "eta", "phi", "e", *obj.fields)
        for f in fields:
            columns = [f"{obj.name}{k}_{f}" for k in range(1, obj.max + 1)]
            values = np.take_along_axis(table[columns].to_numpy(np.float64), order, axis=1)
            table[columns] = np.where(present, values, 0.0)
        multiplicity = f"n_{obj.name}"
        if multiplicity in table:
            n = table[multiplicity].to_numpy(np.float64)
            table[multiplicity] = np.where(count < obj.max, count, np.maximum(n, obj.max))
    removed = int((~keep_events).sum())
    if removed:
        table = table[keep_events].reset_index(drop=True)
    return table, removed


def normalised(weights: np.ndarray) -> np.ndarray:
    """``weights`` (n,) over their mean: mean 1, as the refine stage normalises."""
    if not len(weights):
        return weights
    mean = weights.mean()
    if not mean > 0:
        msg = "every drawn event got weight 0 (the reweighter finds no truth-like event)"
        raise HepgenError(msg)
    return weights / mean


def event_weight(cross_section: dict[str, Any], events: int) -> float:
    """Weight [pb] of each of ``events`` drawn events: σ · ε / N, with ε = 1 where unknown;
    1.0 where σ is unknown."""
    sigma = cross_section.get("sigma_pb")
    if sigma is None:
        return 1.0
    efficiency = cross_section.get("efficiency")
    return float(sigma) * (1.0 if efficiency is None else float(efficiency)) / events
