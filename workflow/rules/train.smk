# Trains one model entry. While it runs, the resumable state (model, optimisers, schedulers,
# random generators, history, best epoch) is written to models/{model}/last.ckpt every
# training.checkpoint_every epochs and on SIGTERM/SIGINT. It is deliberately not an output:
# Snakemake deletes the outputs of failed jobs, and the state must survive a failure so that
# the next run resumes from it (when the config and data are unchanged). It is removed
# after model.pt is written.
rule train_model:
    input:
        train="results/{dataset}/split/train.parquet",
        val="results/{dataset}/split/val.parquet",
        transform="results/{dataset}/split/transform.json",
    output:
        model="results/{dataset}/models/{model}/model.pt",
        history="results/{dataset}/models/{model}/history.csv",
    log:
        "logs/train/{dataset}/{model}.log",
    benchmark:
        "benchmarks/train/{dataset}/{model}.tsv"
    wildcard_constraints:
        model=TRAINED,
    priority: PRIORITY["train"]
    conda:
        "../../envs/model.yaml"
    threads: config["resources"]["train"]["threads"]
    resources:
        mem_mb=resources_for("train", "mem_mb"),
        runtime=resources_for("train", "runtime"),
        gpu=resources_for("train", "gpu"),
    params:
        model_type=lambda w: model_entry(w)["type"],
        params=lambda w: model_entry(w).get("params", {}),
        training=training_config,
        seed=training_seed,
        mmd=lambda w: model_entry(w).get("mmd"),
        condition=lambda w: model_entry(w).get("condition", []),
        rules=config["preprocess"]["transforms"],
        config=lambda w: provenance_config(w),
    script:
        "../../scripts/train.py"
