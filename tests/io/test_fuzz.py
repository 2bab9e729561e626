"""Random small ntuples and random valid configs: ingest → preprocess → inverse → repair never
crash except with the documented :class:`HepgenError`."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ntuples import write_tree

from hepgen.errors import HepgenError
from hepgen.io import DatasetSpec, ingest
from hepgen.preprocessing import Transform, split_table

CHAINS = [
    [{"log": {"offset": 1.0}}, "standard"],
    ["standard"],
    [{"quantile": {"quantiles": 10}}],
    [{"minmax": {"low": -1.0, "high": 1.0}}],
    ["log", "standard"],  # fails on zero padding: a documented error
]


@st.composite
def ntuples(draw):
    n = draw(st.integers(1, 40))
    counts = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    total = sum(counts)
    magnitude = st.floats(1e-3, 1e6, allow_nan=False)
    pt = draw(st.lists(magnitude, min_size=total, max_size=total))
    eta = draw(st.lists(st.floats(-6, 6), min_size=total, max_size=total))
    phi = draw(st.lists(st.floats(-np.pi, np.pi), min_size=total, max_size=total))
    mass = draw(st.lists(st.floats(0, 1e3), min_size=total, max_size=total))
    met = draw(st.lists(magnitude, min_size=n, max_size=n))
    if draw(st.integers(0, 9)) == 0:  # now and then a non-finite value: a documented error
        met[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.inf, np.nan]))
    return counts, np.array(pt), np.array(eta), np.array(phi), np.array(mass), np.array(met)


@st.composite
def configs(draw):
    return {
        "max": draw(st.integers(1, 3)),
        "min": draw(st.integers(0, 2)),
        "min_pt": draw(st.sampled_from([0.0, 10.0, 1e4])),
        "multiplicity": draw(st.booleans()),
        "chain_pt": draw(st.sampled_from(CHAINS)),
        "chain_rest": draw(st.sampled_from(CHAINS[1:4])),
        "phi": draw(st.sampled_from([None, {"reference": "obj1_phi", "mode": "uniform"}])),
        "cartesian": draw(st.booleans()),
        "jagged_met": draw(st.integers(0, 9)) == 0,  # now and then MET of the wrong shape
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=ntuples(), cfg=configs())
def test_random_ntuples_and_configs(tmp_path, data, cfg):
    counts, pt, eta, phi, mass, met = data
    jag = {
        k: ak.unflatten(v, counts)
        for k, v in (("pt", pt), ("eta", eta), ("phi", phi), ("mass", mass))
    }
    if cfg["cartesian"]:
        e = np.sqrt((pt * np.cosh(eta)) ** 2 + mass**2)
        fields = {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "e": e}
        obj = ak.zip({k: ak.unflatten(v, counts) for k, v in fields.items()})
        kinematics = "pxpypze"
    else:
        obj, kinematics = ak.zip(jag), "ptetaphim"
    met_branch = ak.unflatten(met, np.ones(len(met), dtype=np.int64)) if cfg["jagged_met"] else met
    path = write_tree(
        tmp_path / "fuzz.root", {"obj": obj, "met": met_branch, "met_phi": np.zeros(len(met))}
    )
    spec = DatasetSpec.from_config(
        {
            "files": [str(path)],
            "objects": [
                {
                    "name": "obj",
                    "prefix": "obj_",
                    "kinematics": kinematics,
                    "max": cfg["max"],
                    "min": cfg["min"],
                    "min_pt": cfg["min_pt"],
                    "max_abs_eta": 5.0,
                    "multiplicity": cfg["multiplicity"],
                }
            ],
            "met": {"pt": "met", "phi": "met_phi"},
        }
    )
    rules = [
        {"match": "*_pt", "chain": cfg["chain_pt"]},
        {"match": "n_*", "chain": ["discrete"]},
        {"match": "*", "chain": cfg["chain_rest"]},
    ]
    if cfg["jagged_met"]:  # refused from the branch types, whatever the values
        with pytest.raises(
            HepgenError, match=r"branch 'met' is jagged var \* float64, but as met.pt"
        ):
            ingest(spec)
        event("documented error: jagged MET")
        return
    try:
        table, _ = ingest(spec)
        parts = split_table(table, {"train": 0.5, "val": 0.25, "test": 0.25}, seed=0)
        transform = Transform.from_rules(list(table.columns), rules, phi=cfg["phi"]).fit(
            parts["train"]
        )
    except HepgenError as err:
        event(f"documented error: {type(err).__name__}")
        return
    event("ingested, fitted and inverted")
    x = transform.forward(parts["train"])
    assert x.shape == (len(parts["train"]), len(transform.features))
    assert np.isfinite(x).all()
    back = transform.inverse(x)
    assert list(back.columns) == transform.columns
    repaired, stats = transform.postprocess(back)
    assert np.isfinite(repaired.to_numpy()).all()
    assert 0.0 <= stats["invalid_fraction"] <= 1.0
    noise = np.random.default_rng(0).normal(size=x.shape).astype(np.float32) * 3
    wild, _ = transform.postprocess(transform.inverse(x + noise))
    pt_cols = [c for c in wild.columns if c.endswith("_pt")]
    assert (wild[pt_cols] >= 0).all().all()
