"""Tiny trained generator files shared by the generator, command-line and writer tests."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
from representation_events import MUON, RULES, dimuon_events
from small_models import loop_config

from hepgen.checkpoint import save_checkpoint
from hepgen.generator import load_generator, save_generator, save_reweighter
from hepgen.models import build
from hepgen.preprocessing import Representation, Transform
from hepgen.preprocessing.condition import Conditioning
from hepgen.preprocessing.kinematics import to_cartesian
from hepgen.reweighting import fit_reweighter
from hepgen.training import train_model

#: A dimuon dataset with up to two b-tagged jets, as the workflow's tiny config reads it.
DATASET = {
    "tree": "events",
    "objects": [
        {
            "name": "mu",
            "prefix": "lep_",
            "kinematics": "ptetaphie",
            "max": 2,
            "min": 2,
            "min_pt": 20.0,
            "max_abs_eta": 2.5,
            "mass": MUON,
            "fields": {"charge": "lep_charge"},
        },
        {
            "name": "jet",
            "prefix": "jet_",
            "kinematics": "ptetaphie",
            "max": 2,
            "min": 0,
            "min_pt": 20.0,
            "max_abs_eta": 2.5,
            "fields": {"btag": "jet_btag"},
        },
    ],
    "systems": [{"name": "ll", "objects": ["mu1", "mu2"], "order": "charge"}],
    "met": {"pt": "met", "phi": "met_phi", "reference": "ll"},
    "weight": "weight",
    "scalars": [],
}

#: Generation statistics of the tiny sample: σ [pb] and the fraction passing the selection.
CROSS_SECTION = {
    "sigma_pb": 2000.0,
    "sigma_err_pb": 5.0,
    "generated_events": 10_000,
    "efficiency": 0.4,
}

SMALL_BVAE = {"latent": 4, "hidden": 32, "layers": 2, "gamma": 0.05}

#: A small conditional flow, and what it is conditioned on: the dimuon mass (a learned
#: coordinate that is no table column) and the MET (a table column the model still generates).
SMALL_FLOW = {"transforms": 2, "hidden": 16, "layers": 1, "bins": 4}
CONDITION = ["ll_m", "met"]

#: Reweighting of the refined tiny generator: small classifiers with coarse bins (binning
#: with sample weights takes most of a fit's time).
REFINE = {"folds": 3, "clip": 20.0, "classifier": {"max_iter": 15, "max_bins": 15}}


def dataset(**changes: object) -> dict:
    """A deep copy of :data:`DATASET` with top-level keys changed."""
    return copy.deepcopy(DATASET) | changes


def events(seed: int = 5, n: int = 3000) -> pd.DataFrame:
    """Dimuon events (pT > 20 GeV) with 0-2 jets (pT > 20 GeV, |η| < 2.4, b-tag 0/1)."""
    rng = np.random.default_rng(seed)
    table = dimuon_events(rng, n).drop(columns="weight")
    count = rng.integers(0, 3, n)
    pts = np.sort(rng.exponential(30.0, (n, 2)) + 21.0, axis=1)[:, ::-1]
    for k in range(2):
        present = count > k
        pt = np.where(present, pts[:, k], 0.0)
        eta = np.where(present, rng.uniform(-2.3, 2.3, n), 0.0)
        phi = np.where(present, rng.uniform(-np.pi, np.pi, n), 0.0)
        e = np.where(present, to_cartesian(pt, eta, phi, rng.gamma(4.0, 2.0, n))[0], 0.0)
        table[f"jet{k + 1}_pt"], table[f"jet{k + 1}_eta"] = pt, eta
        table[f"jet{k + 1}_phi"], table[f"jet{k + 1}_e"] = phi, e
        table[f"jet{k + 1}_btag"] = np.where(present, rng.integers(0, 2, n), 0.0).astype(float)
    met, met_phi = table.pop("met"), table.pop("met_phi")
    table["met"], table["met_phi"] = met, met_phi
    return table.assign(weight=1.0)


def _fitted_transform(entry: dict, table: pd.DataFrame) -> tuple[Transform, list]:
    """The tiny dataset's transform fitted on the first 2400 events, and its rules."""
    representation = Representation.from_config(entry, "ptetaphim", seed=11)
    rules = [*RULES[:-1], {"match": "*_btag", "chain": ["discrete", "standard"]}, RULES[-1]]
    phi = {"reference": "auto", "mode": "uniform", "seed": 3}
    transform = Transform.from_rules(
        list(table.columns), rules, phi=phi, representation=representation
    ).fit(table[:2400])
    return transform, rules


def train_conditional_generator(
    directory: Path,
    *,
    type: str = "flow",
    params: dict | None = None,
    condition: list[str] = CONDITION,
    epochs: int = 2,
) -> Path:
    """As :func:`train_generator`, a model of p(features | ``condition``) (the conditions'
    own chains fitted with the transform's rules, as the workflow fits them); returns the
    generator file written into ``directory``."""
    entry = dataset()
    table = events()
    transform, rules = _fitted_transform(entry, table)
    conditioning = Conditioning.from_rules(transform, condition, rules).fit(table[:2400])
    params = params or SMALL_FLOW
    model = build(
        type, len(conditioning.inputs), params, seed=4, conditions=len(conditioning.columns)
    )
    history = train_model(
        model,
        conditioning.forward(table[:2400]),
        conditioning.forward(table[2400:]),
        loop_config(epochs=epochs),
    )
    directory.mkdir(parents=True, exist_ok=True)
    checkpoint = directory / "model.pt"
    save_checkpoint(
        checkpoint,
        model,
        type=type,
        params=params,
        features=conditioning.inputs,
        training={"epochs": epochs},
        history=history,
        extra={"provenance": {"seed": 4}},
        condition=conditioning.to_dict(),
    )
    path = directory / "generator.pt"
    options = {"cross_section": CROSS_SECTION, "provenance": {"dataset": "tiny", "model": type}}
    save_generator(path, checkpoint, transform, entry, **options)
    return path


def train_generator(
    directory: Path,
    *,
    type: str = "bvae",
    params: dict | None = None,
    entry: dict | None = None,
    cross_section: dict | None = CROSS_SECTION,
    epochs: int = 3,
    refine: dict | None = None,
) -> Path:
    """Fit a transform on :func:`events`, train a small model, write ``model.pt`` and
    ``generator.pt`` into ``directory``; returns the generator file.

    With ``refine`` (e.g. :data:`REFINE`) the model is refined as the workflow does it: 900
    drawn events reweighted against 900 held-out :func:`events`, the classifiers written to
    ``reweighter.npz`` and packaged into ``generator.pt``."""
    entry = entry or dataset()
    table = events()
    transform, _ = _fitted_transform(entry, table)
    model = build(type, len(transform.features), params or SMALL_BVAE, seed=4)
    config = loop_config(epochs=epochs)
    history = train_model(
        model, transform.forward(table[:2400]), transform.forward(table[2400:]), config
    )
    directory.mkdir(parents=True, exist_ok=True)
    checkpoint = directory / "model.pt"
    save_checkpoint(
        checkpoint,
        model,
        type=type,
        params=params or SMALL_BVAE,
        features=transform.features,
        training={"epochs": epochs},
        history=history,
        extra={"provenance": {"seed": 4}},
    )
    path = directory / "generator.pt"
    options = {"cross_section": cross_section, "provenance": {"dataset": "tiny", "model": type}}
    save_generator(path, checkpoint, transform, entry, **options)
    if refine is not None:
        generated = load_generator(path).sample(900, seed=2, device="cpu")
        truth = events(seed=6, n=900)
        _, _, reweighter = fit_reweighter(
            truth, generated, features=transform.columns, seed=3, **refine
        )
        save_reweighter(directory / "reweighter.npz", reweighter)
        save_generator(
            path, checkpoint, transform, entry, **options, reweighter=directory / "reweighter.npz"
        )
    return path
