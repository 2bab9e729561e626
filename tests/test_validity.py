"""One definition of a usable event, from sampling through evaluation to the leaderboard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import torch

from hepgen.metrics import evaluate, sampling_record
from hepgen.models import build
from hepgen.plotting.leaderboard import leaderboard_table
from hepgen.preprocessing import Transform
from hepgen.sampling import write_samples
from hepgen.training import TrainConfig, train_model

RULES = [
    {"match": "*_pt", "chain": ["log", "standard"]},
    {"match": "*_e", "chain": ["log", "standard"]},
    {"match": "met", "chain": ["log", "standard"]},
    {"match": "*", "chain": ["standard"]},
]


def muon_events(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pt, eta = rng.exponential(20.0, n) + 25.0, rng.normal(0.0, 1.2, n)
    return pd.DataFrame(
        {
            "mu1_pt": pt,
            "mu1_eta": eta,
            "mu1_phi": rng.uniform(-np.pi, np.pi, n),
            "mu1_e": pt * np.cosh(eta) * 1.0001,
            "met": rng.exponential(10.0, n) + 0.5,
        }
    )


class Faulty(torch.nn.Module):
    """A trained generator whose every 50th event is NaN and every 50th + 1 has pT → 0."""

    def __init__(self, model, pt_column: int) -> None:
        super().__init__()
        self.model, self.pt_column = model, pt_column
        self.model_type = model.model_type

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        x = self.model.sample(n, generator).clone()
        x[0::50] = float("nan")
        x[1::50, self.pt_column] = -1e4  # exp underflows: pT = 0, no log pT to embed
        return x


def test_unusable_events_are_removed_counted_and_reported(tmp_path) -> None:
    train, test = muon_events(0, 3000), muon_events(1, 3000)
    transform = Transform.from_rules(list(train.columns), RULES, phi=None).fit(train)
    x = transform.forward(train)
    model = build("vae", x.shape[1], {"latent": 3, "hidden": 32, "layers": 2}, seed=0)
    train_model(model, x[:2400], x[2400:], TrainConfig(epochs=3, device="cpu", checkpoint_every=0))
    faulty = Faulty(model.eval(), transform.features.index("mu1_pt"))
    path = tmp_path / "samples.parquet"
    info = write_samples(
        path,
        faulty,
        5000,
        seed=3,
        batch_size=1000,
        inverse=lambda a, rng: transform.inverse(a, rng=rng),
        postprocess=transform.postprocess,
        max_removed_fraction=0.05,
    )
    validity = info["validity"]
    assert validity["reasons"]["non_finite"] == 100
    assert validity["reasons"]["unusable"] == 100  # the pT = 0 muons
    assert validity["removed"] == 200
    samples = pd.read_parquet(path)
    assert len(samples) == info["events"] == 4800 == pq.read_metadata(path).num_rows
    assert transform.usable(samples).all()
    # evaluation applies the same definition: a sample file from elsewhere with 7 bad events
    broken = pd.concat([samples, samples.iloc[:7].assign(met=np.inf)], ignore_index=True)
    kept, excluded = transform.exclude_unusable(broken)
    assert excluded == {"events": 7, "of": 4807} and len(kept) == 4800
    record = evaluate(test, kept, features=transform.columns, seed=0, options={"bootstrap": 4})
    record |= {"sampling": sampling_record(info), "excluded": excluded}
    assert record["sampling"]["removed"] == 200
    board = leaderboard_table([{"dataset": "d", "model": "faulty", "metrics": record}])
    assert board.loc[0, "unusable"] == 207
