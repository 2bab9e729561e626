# Helpers, validation and target lists; other rule files hold only rules.
import re

from snakemake.common.configfile import load_configfile

from hepgen import models as hepgen_models
from hepgen.conventions import JETS, LEPTONS, has_latent_space
from hepgen.config import replace_user_sections, validate_config
from hepgen.io import DatasetSpec, expand_files
from hepgen.preprocessing.condition import unknown_conditions
from hepgen.preprocessing.representation import Representation
from hepgen.resources import check_default_resources, check_gpu_requests
from hepgen.errors import HepgenError
from hepgen.reweighting import refine_options
from hepgen.seeds import derive_seed
from hepgen.sweeps import check_unique_names, check_variants, expand_sweeps

# A user's --configfile gives `datasets`, `models` and `sweeps` whole (the default's are not
# merged in); every other key merges over config/config.yaml, and --config over all of them.
replace_user_sections(
    config,
    [load_configfile(path) for path in workflow.overwrite_configfiles],
    overrides=workflow.config_settings.config,
)
SCHEMA = workflow.source_path("../schemas/config.schema.yaml")
validate_config(config, SCHEMA)

DATASETS = list(config["datasets"])


def _model_entries():
    """Explicit `models` entries followed by every variant of every sweep grid."""
    variants = expand_sweeps(config.get("sweeps", []))
    check_variants(variants, SCHEMA)
    entries = [*config["models"], *variants]
    check_unique_names(entries, what="config models and sweeps")
    for entry in entries:
        try:
            hepgen_models.validate(entry["type"], entry.get("params", {}))
        except HepgenError as err:
            raise HepgenError(f"config models '{entry['name']}': {err}") from None
        try:
            hepgen_models.check_condition(entry["type"], entry.get("condition"))
        except HepgenError as err:
            raise HepgenError(f"config models '{entry['name']}': {err}") from None
        if "mmd" in entry and entry.get("condition"):
            raise HepgenError(
                f"config models '{entry['name']}': key 'mmd' cannot be combined with 'condition'"
            )
        weights = {**config["training"], **entry.get("training", {})}.get("weights")
        if weights == "per_condition" and not entry.get("condition"):
            raise HepgenError(
                f"config models '{entry['name']}': training.weights 'per_condition' needs "
                "'condition' columns (it divides the weights' dependence on them out)"
            )
        if "mmd" in entry and entry["type"] not in hepgen_models.PHYSICS_LOSS_TYPES:
            raise HepgenError(
                f"config models '{entry['name']}': key 'mmd' needs a model that generates in "
                f"one pass from its prior, one of {sorted(hepgen_models.PHYSICS_LOSS_TYPES)}; "
                f"found type {entry['type']!r}"
            )
    return {entry["name"]: entry for entry in entries}


MODELS = _model_entries()


def _refined_models():
    """`<model>+rw` -> (model, reweighting options) for every model entry with `refine`."""
    refined = {}
    for name, entry in MODELS.items():
        try:
            options = refine_options(config.get("refine"), entry.get("refine"))
        except HepgenError as err:
            raise HepgenError(f"config models '{name}': {err}") from None
        if options is not None:
            refined[f"{name}+rw"] = (name, options)
    clash = sorted(set(refined) & set(MODELS))
    if clash:
        raise HepgenError(
            f"config models: {clash} name the reweighted samples of models with `refine`; "
            f"rename those models"
        )
    return refined


REFINED = _refined_models()


def reweighter_for(wildcards):
    """The refine stage's classifiers of a model with `refine` (packaged with it), else none."""
    if f"{wildcards.model}+rw" not in REFINED:
        return []
    return f"results/{wildcards.dataset}/models/{wildcards.model}/reweighter.npz"


# Everything evaluated and plotted: every model's samples and every reweighted sample.
SAMPLES = [*MODELS, *REFINED]

# Rules (and config resource stages) that run on a GPU when one is given; all others are CPU.
GPU_RULES = ("train_model", "sample_model")


def _plain(resources):
    return {name: getattr(res, "raw", res) for name, res in resources.items()}


def _check_resources():
    """Refuse GPU requests for CPU-only rules before anything is submitted."""
    settings = workflow.resource_settings
    overrides = settings.overwrite_resources
    overrides = {name: _plain(res) for name, res in overrides.items()}
    check_gpu_requests(overrides, gpu_users=GPU_RULES, source="set-resources")
    defaults = _plain(settings.default_resources or {})
    check_default_resources(defaults, gpu_users=GPU_RULES)
    stages = tuple(rule.removesuffix("_model") for rule in GPU_RULES)
    check_gpu_requests(config["resources"], gpu_users=stages, source="config resources")


_check_resources()


def representation_kind(dataset):
    default = config["preprocess"].get("representation", "ptetaphim")
    return config["datasets"][dataset].get("representation", default)


def tail_cuts_for(dataset):
    """The dataset's own ``tail_cuts`` if it sets them, else ``preprocess.tail_cuts``."""
    default = config["preprocess"].get("tail_cuts", {})
    return config["datasets"][dataset].get("tail_cuts", default)


def _check_representations():
    """Branch clashes and the learned coordinates of every dataset, before any job runs."""
    for name, entry in config["datasets"].items():
        try:
            DatasetSpec.from_config(entry, files=[])
            Representation.from_config(entry, representation_kind(name))
        except HepgenError as err:
            raise HepgenError(f"config datasets.{name}: {err}") from None


_check_representations()


def _check_conditions():
    """Every condition column of every model exists in (or derives from) every dataset."""
    for dataset, entry in config["datasets"].items():
        columns = [
            c for c, _ in DatasetSpec.from_config(entry, files=[]).column_origins()
        ]
        physical = [c for c in columns if c != "weight"]
        rep = Representation.from_config(entry, representation_kind(dataset))
        coordinates = rep.coordinates(physical) if rep else physical
        for model, spec in MODELS.items():
            unknown = unknown_conditions(
                spec.get("condition", []), physical, coordinates
            )
            if unknown:
                raise HepgenError(
                    f"config models '{model}': key 'condition' names {unknown}, which dataset "
                    f"'{dataset}' neither has nor derives (its columns: {physical}; learned "
                    f"coordinates: {coordinates})"
                )


_check_conditions()


def _check_mmd_objects():
    """Every `mmd.objects` name is a collection or system of every dataset."""
    for model, entry in MODELS.items():
        for dataset, spec in config["datasets"].items():
            names = [o["name"] for o in spec.get("objects", [])]
            names += [s["name"] for s in spec.get("systems", [])]
            unknown = sorted(set(entry.get("mmd", {}).get("objects", [])) - set(names))
            if unknown:
                raise HepgenError(
                    f"config models '{model}': mmd.objects {unknown} are neither collections "
                    f"nor systems of dataset '{dataset}' (it has {names})"
                )


_check_mmd_objects()


wildcard_constraints:
    dataset="|".join(map(re.escape, DATASETS)),
    model="|".join(map(re.escape, sorted(SAMPLES, key=len, reverse=True))),
    chunk=r"\d+",


def dataset_config(wildcards):
    return config["datasets"][wildcards.dataset]


def seed_for(*names):
    return derive_seed(config["seed"], *names)


# Which ready jobs the scheduler starts first: the long trainings, then the reweighting and the
# evaluation that follow a sample (each a chain of further jobs), then the short figure jobs, which
# fill the cores at the end instead of a reweight -> evaluate -> figures chain running alone.
PRIORITY = {"train": 3, "refine": 2, "evaluate": 1}


def resources_for(stage, key):
    return config["resources"][stage].get(key, 0)


# ---- simulate -------------------------------------------------------------------------


from hepgen.simulate.processes import check_filter
from hepgen.simulate.slices import chunk_plan


def _chunk_plans():
    """The chunks of every simulated dataset; checks `simulate` (its slices, a lepton filter
    looser than the objects' selection) before any job."""
    plans = {}
    for name, entry in config["datasets"].items():
        if "simulate" in entry:
            where = f"datasets.{name}.simulate"
            try:
                plans[name] = chunk_plan(entry["simulate"], where)
                for chunk in plans[name]:
                    check_filter(
                        entry["simulate"]["process"],
                        chunk.options,
                        entry.get("objects", []),
                        where,
                    )
            except HepgenError as err:
                raise HepgenError(f"config {err}") from None
    return plans


CHUNKS = _chunk_plans()


def simulated_chunks(dataset):
    return [chunk.index for chunk in CHUNKS[dataset]]


def _chunk(wildcards):
    chunks = CHUNKS[wildcards.dataset]
    if int(wildcards.chunk) >= len(chunks):
        raise HepgenError(
            f"results/{wildcards.dataset}/ntuple/chunk{wildcards.chunk}: dataset "
            f"'{wildcards.dataset}' has chunks 0 to {len(chunks) - 1}"
        )
    return chunks[int(wildcards.chunk)]


def chunk_events(wildcards):
    return _chunk(wildcards).events


def simulate_options(wildcards):
    return _chunk(wildcards).options


def chunk_slice(wildcards):
    """The chunk's entry of `simulate.slices` (index, total events, overrides), else None."""
    chunk = _chunk(wildcards)
    if chunk.slice is None:
        return None
    return {
        "index": chunk.slice,
        "events": chunk.slice_events,
        "options": chunk.slice_options,
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


def model_entry_by_name(name):
    """The config entry of a model, or of the model behind a reweighted sample `<model>+rw`."""
    return MODELS[REFINED[name][0] if name in REFINED else name]


def model_entry(wildcards):
    return model_entry_by_name(wildcards.model)


# Rules that run for trained models only (not for the reweighted samples `<model>+rw`).
TRAINED = "|".join(map(re.escape, sorted(MODELS, key=len, reverse=True)))
# Rules that run for reweighted samples only (a pattern that matches nothing without any).
REWEIGHTED = "|".join(map(re.escape, sorted(REFINED, key=len, reverse=True))) or "(?!)"


def training_seed(wildcards):
    """From the model name, or from (type, seed) for a model entry with a replica `seed`."""
    entry = model_entry(wildcards)
    if "seed" in entry:
        return seed_for("train", wildcards.dataset, entry["type"], entry["seed"])
    return seed_for("train", wildcards.dataset, wildcards.model)


def sample_condition(wildcards):
    """Where a conditional model's conditions come from: its own `sample.condition`, else the
    config's."""
    own = model_entry(wildcards).get("sample", {})
    return own.get("condition", config["sample"].get("condition"))


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


def has_observables(dataset):
    """Whether a dataset has lepton or jet collections, so physics observables exist."""
    names = [entry["name"] for entry in config["datasets"][dataset].get("objects", [])]
    return any(name in LEPTONS or name in JETS for name in names)


def latent_models():
    """Models whose type has an encoder (hepgen.plotting.latent.LATENT_TYPES)."""
    return [name for name, entry in MODELS.items() if has_latent_space(entry["type"])]


def get_final_output():
    return [
        *expand(
            "results/{dataset}/metrics/{model}.json", dataset=DATASETS, model=SAMPLES
        ),
        *expand(
            "results/{dataset}/plots/{model}/{figure}.png",
            dataset=DATASETS,
            model=SAMPLES,
            figure=["histograms", "correlations"],
        ),
        *expand(
            "results/{dataset}/plots/{model}/training.png",
            dataset=DATASETS,
            model=MODELS,
        ),
        *expand(
            "results/{dataset}/plots/{model}/weights.png",
            dataset=DATASETS,
            model=REFINED,
        ),
        *expand(
            "results/{dataset}/plots/{model}/observables.png",
            dataset=[d for d in DATASETS if has_observables(d)],
            model=SAMPLES,
        ),
        *[
            f"results/{dataset}/plots/{model}/response.png"
            for dataset in DATASETS
            if "pairs" in config["datasets"][dataset]
            for model in SAMPLES
            if model_entry_by_name(model).get("condition")
        ],
        *expand(
            "results/{dataset}/plots/{model}/latent.png",
            dataset=DATASETS,
            model=latent_models(),
        ),
        *expand(
            "results/{dataset}/models/{model}/generator.pt",
            dataset=DATASETS,
            model=MODELS,
        ),
        *(
            expand(
                "results/{dataset}/samples/{model}.root",
                dataset=DATASETS,
                model=SAMPLES,
            )
            if config["sample"].get("format", "parquet") == "root"
            else []
        ),
        "results/summary/leaderboard.csv",
        "results/summary/leaderboard.md",
        "results/summary/leaderboard.tex",
        "results/summary/leaderboard.png",
        *expand("results/{dataset}/plots/preprocessing.png", dataset=DATASETS),
    ]
