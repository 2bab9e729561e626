# Helpers, validation and target lists; other rule files hold only rules.
from hepgen import models as hepgen_models
from hepgen.config import validate_config
from hepgen.io import expand_files
from hepgen.runtime import HepgenError, derive_seed

validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))

DATASETS = list(config["datasets"])
MODELS = {entry["name"]: entry for entry in config["models"]}


def _check_models():
    names = [entry["name"] for entry in config["models"]]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise HepgenError(f"config models: duplicate model names {duplicates}")
    for entry in config["models"]:
        try:
            hepgen_models.validate(entry["type"], entry.get("params", {}))
        except HepgenError as err:
            raise HepgenError(f"config models '{entry['name']}': {err}") from None


_check_models()


wildcard_constraints:
    dataset="|".join(DATASETS),
    model="|".join(MODELS),
    chunk=r"\d+",


def dataset_config(wildcards):
    return config["datasets"][wildcards.dataset]


def seed_for(*names):
    return derive_seed(config["seed"], *names)


def resources_for(stage, key):
    return config["resources"][stage].get(key, 0)


# ---- simulate -------------------------------------------------------------------------


def simulated_chunks(dataset):
    sim = config["datasets"][dataset]["simulate"]
    return list(range(sim["chunks"]))


def chunk_events(wildcards):
    sim = dataset_config(wildcards)["simulate"]
    base, extra = divmod(sim["events"], sim["chunks"])
    return base + (1 if int(wildcards.chunk) < extra else 0)


def simulate_options(wildcards):
    sim = dataset_config(wildcards)["simulate"]
    return {
        k: v for k, v in sim.items() if k not in {"process", "events", "chunks", "ecm"}
    }


# ---- ingest ---------------------------------------------------------------------------


def ingest_inputs(wildcards):
    entry = dataset_config(wildcards)
    if "simulate" in entry:
        return expand(
            "results/{dataset}/ntuple/chunk{chunk}.root",
            dataset=wildcards.dataset,
            chunk=simulated_chunks(wildcards.dataset),
        )
    try:
        return expand_files(entry["files"])
    except HepgenError as err:
        raise HepgenError(f"config datasets.{wildcards.dataset}.files: {err}") from None


def ingest_spec(wildcards):
    entry = dataset_config(wildcards)
    return {k: v for k, v in entry.items() if k not in {"simulate", "files"}}


# ---- train / sample / evaluate --------------------------------------------------------


def model_entry(wildcards):
    return MODELS[wildcards.model]


def training_config(wildcards):
    return {**config["training"], **model_entry(wildcards).get("training", {})}


def provenance_config(wildcards, *stages):
    """The config parts a result of (dataset, model) depends on."""
    entry = {"dataset": dataset_config(wildcards), "preprocess": config["preprocess"]}
    if hasattr(wildcards, "model"):
        entry["model"] = model_entry(wildcards)
        entry["training"] = training_config(wildcards)
    for stage in stages:
        entry[stage] = config[stage]
    return entry


# ---- targets --------------------------------------------------------------------------


def get_final_output():
    return [
        *expand(
            "results/{dataset}/metrics/{model}.json", dataset=DATASETS, model=MODELS
        ),
        *expand(
            "results/{dataset}/plots/{model}/features.png",
            dataset=DATASETS,
            model=MODELS,
        ),
        "results/summary/leaderboard.csv",
        "results/summary/leaderboard.md",
    ]
