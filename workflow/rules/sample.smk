rule sample_model:
    input:
        model="results/{dataset}/models/{model}/model.pt",
        transform="results/{dataset}/split/transform.json",
        test="results/{dataset}/split/test.parquet",
        train="results/{dataset}/split/train.parquet",
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
        condition=sample_condition,
        spec=ingest_spec,
        device=lambda w: training_config(w)["device"],
        seed=lambda w: seed_for("sample", w.dataset, w.model),
        config=lambda w: provenance_config(w, "sample"),
    script:
        "../../scripts/sample.py"


# With sample.format: root, every sample (plain and reweighted) is also written as a ROOT file in
# the dataset's input schema, weighted sigma * efficiency / N (times the reweighting weight).
rule write_root:
    input:
        samples="results/{dataset}/samples/{model}.parquet",
        generator=lambda w: "results/{dataset}/models/%s/generator.pt"
        % (REFINED[w.model][0] if w.model in REFINED else w.model),
    output:
        root="results/{dataset}/samples/{model}.root",
    log:
        "logs/write_root/{dataset}/{model}.log",
    benchmark:
        "benchmarks/write_root/{dataset}/{model}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    resources:
        mem_mb=resources_for("sample", "mem_mb"),
        runtime=resources_for("sample", "runtime"),
    params:
        drawn=config["sample"]["events"],
    script:
        "../../scripts/write_root.py"
