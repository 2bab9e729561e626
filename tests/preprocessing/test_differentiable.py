"""The transform's inverse on torch tensors gives the masses of the NumPy inverse, with gradients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from representation_events import RULES, dimuon, dimuon_events, jet_events

from hepgen.errors import HepgenError
from hepgen.preprocessing import Representation, Transform
from hepgen.preprocessing.differentiable import TensorInverse
from hepgen.preprocessing.elementary import Discrete, Log, Logit, MinMax, Quantile, Standard
from hepgen.preprocessing.kinematics import to_cartesian

QUANTILE_MASSES = [{"match": "*_m", "chain": [{"quantile": {"quantiles": 200}}]}, *RULES]


def pair_mass(table: pd.DataFrame, a: str, b: str) -> np.ndarray:
    vectors = [
        to_cartesian(*(table[f"{o}_{f}"].to_numpy() for f in ("pt", "eta", "phi")), 0.0)[1:]
        for o in (a, b)
    ]
    energy = table[f"{a}_e"].to_numpy() + table[f"{b}_e"].to_numpy()
    p2 = sum((va + vb) ** 2 for va, vb in zip(*vectors, strict=True))
    return np.sqrt(np.maximum(energy**2 - p2, 0.0))


def tensor_mass(vectors, a: str, b: str) -> np.ndarray:
    e, px, py, pz = (vectors[a][i] + vectors[b][i] for i in range(4))
    return (e**2 - px**2 - py**2 - pz**2).clamp_min(0).sqrt().detach().numpy()


@pytest.mark.parametrize(
    "step",
    [Log(offset=1.0), Standard(mean=2.0, std=3.0), MinMax(min=-1.0, max=4.0), Logit()],
)
def test_elementary_tensor_inverses_match_the_numpy_ones(step) -> None:
    y = np.linspace(-3.0, 3.0, 101)
    np.testing.assert_allclose(step.inverse_tensor(torch.as_tensor(y)).numpy(), step.inverse(y))


def test_the_quantile_and_discrete_tensor_inverses_match_the_numpy_ones() -> None:
    x = np.random.default_rng(0).gamma(2.0, 10.0, 5000)
    quantile = Quantile(quantiles=300).fit(x, "m")
    y = np.linspace(-7.0, 7.0, 2001)  # beyond the ±6σ ends too
    np.testing.assert_allclose(
        quantile.inverse_tensor(torch.as_tensor(y)).numpy(), quantile.inverse(y), rtol=1e-12
    )
    discrete = Discrete().fit(np.array([-1.0, 1.0, 1.0]), "charge")
    y = np.array([-0.7, 0.2, 0.6, 1.4, 3.0])
    np.testing.assert_array_equal(
        discrete.inverse_tensor(torch.as_tensor(y)).numpy(), discrete.inverse(y)
    )


def test_dimuon_masses_and_gradients_through_the_whole_inverse() -> None:
    table = dimuon_events(np.random.default_rng(1), 3000)
    transform = Transform.from_rules(
        list(table.columns), QUANTILE_MASSES, phi={"reference": "auto"}, representation=dimuon()
    ).fit(table)
    noise = np.random.default_rng(2).normal(0.0, 1.0, (500, len(transform.features)))
    physical = transform.inverse(noise.astype(np.float32))
    y = torch.as_tensor(noise, dtype=torch.float64).requires_grad_(True)
    vectors = TensorInverse(transform).four_vectors(y)
    mass = tensor_mass(vectors, "ll1", "ll2")
    np.testing.assert_allclose(mass, pair_mass(physical, "mu1", "mu2"), rtol=1e-6, atol=1e-6)
    e, px, py, pz = (vectors["ll1"][i] + vectors["ll2"][i] for i in range(4))
    (e**2 - px**2 - py**2 - pz**2).sum().backward()
    column = transform.features.index("ll_m")
    assert torch.isfinite(y.grad).all() and (y.grad[:, column].abs() > 0).all()


def test_optional_jets_beyond_the_multiplicity_are_absent() -> None:
    table = jet_events(np.random.default_rng(3))
    rep = Representation.from_config({"objects": [{"name": "jet", "max": 3, "min": 2}]}, seed=1)
    transform = Transform.from_rules(
        list(table.columns), QUANTILE_MASSES, phi={"reference": "auto", "mode": "keep"},
        representation=rep,
    ).fit(table)  # fmt: skip
    y = transform.forward(table.iloc[:400])
    vectors = TensorInverse(transform).four_vectors(torch.as_tensor(y, dtype=torch.float64))
    physical = transform.inverse(y)
    absent = physical["jet3_pt"].to_numpy() == 0
    assert 0 < absent.sum() < len(absent)
    assert (vectors["jet3"][0].numpy()[absent] == 0).all()
    for a, b in (("jet1", "jet2"), ("jet1", "jet3"), ("jet2", "jet3")):
        np.testing.assert_allclose(
            tensor_mass(vectors, a, b), pair_mass(physical, a, b), rtol=1e-6, atol=1e-4
        )


def test_a_transform_without_representation_is_refused() -> None:
    table = pd.DataFrame({"x": np.arange(10.0)})
    transform = Transform.from_rules(["x"], [{"match": "*", "chain": ["standard"]}]).fit(table)
    with pytest.raises(HepgenError, match="needs a dataset with an event representation"):
        TensorInverse(transform)
