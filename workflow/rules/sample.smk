rule sample_model:
    input:
        model="results/{dataset}/models/{model}/model.pt",
        transform="results/{dataset}/split/transform.json",
    output:
        samples="results/{dataset}/samples/{model}.parquet",
        info="results/{dataset}/samples/{model}.json",
    log:
        "logs/sample/{dataset}/{model}.log",
    benchmark:
        "benchmarks/sample/{dataset}/{model}.tsv"
    wildcard_constraints:
        model=TRAINED,
    conda:
        "../../envs/model.yaml"
    threads: config["resources"]["sample"]["threads"]
    resources:
        mem_mb=resources_for("sample", "mem_mb"),
        runtime=resources_for("sample", "runtime"),
        gpu=resources_for("sample", "gpu"),
    params:
        events=config["sample"]["events"],
        batch_size=config["sample"]["batch_size"],
        max_removed_fraction=config["sample"].get("max_removed_fraction", 0.01),
        device=lambda w: training_config(w)["device"],
        seed=lambda w: seed_for("sample", w.dataset, w.model),
        config=lambda w: provenance_config(w, "sample"),
    script:
        "../../scripts/sample.py"
