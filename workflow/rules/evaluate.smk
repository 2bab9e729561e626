rule evaluate_model:
    input:
        samples="results/{dataset}/samples/{model}.parquet",
        info="results/{dataset}/samples/{model}.json",
        test="results/{dataset}/split/test.parquet",
        train="results/{dataset}/split/train.parquet",
        transform="results/{dataset}/split/transform.json",
    output:
        metrics="results/{dataset}/metrics/{model}.json",
    log:
        "logs/evaluate/{dataset}/{model}.log",
    benchmark:
        "benchmarks/evaluate/{dataset}/{model}.tsv"
    priority: PRIORITY["evaluate"]
    conda:
        "../../envs/evaluate.yaml"
    threads: config["resources"]["evaluate"]["threads"]
    resources:
        mem_mb=resources_for("evaluate", "mem_mb"),
        runtime=resources_for("evaluate", "runtime"),
    params:
        seed=lambda w: seed_for("evaluate", w.dataset),
        options=config["evaluate"],
        model=lambda w: w.model,
        condition=lambda w: model_entry(w).get("condition", []),
        sample_condition=sample_condition,
        dataset=lambda w: w.dataset,
        config=lambda w: provenance_config(w, "sample", "evaluate"),
    script:
        "../../scripts/evaluate.py"
