"""Snakemake adapter: histograms of the training features before and after preprocessing."""

import pandas as pd

from hepgen.plotting.labels import feature_label
from hepgen.plotting.preprocessing import plot_preprocessing
from hepgen.preprocessing import Transform
from hepgen.runtime import script_logging

log = script_logging(snakemake.log[0])  # noqa: F821
transform = Transform.load(snakemake.input.transform)  # noqa: F821
train = pd.read_parquet(snakemake.input.train)  # noqa: F821
inputs = transform.forward(train)
shown, labels = train, {}
if transform.phi is not None:
    shown = transform.phi.forward(train)
    ref = transform.phi.reference
    for column in transform.phi.relative_columns(transform.features):
        labels[column] = rf"$\Delta${feature_label(column)} to {ref}, centred"
plot_preprocessing(
    shown,
    inputs,
    features=transform.features,
    path=snakemake.output.plot,  # noqa: F821
    title=snakemake.wildcards.dataset,  # noqa: F821
    labels=labels,
)
