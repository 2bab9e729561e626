rule preprocess_split:
    input:
        table="results/{dataset}/events.parquet",
    output:
        train="results/{dataset}/split/train.parquet",
        val="results/{dataset}/split/val.parquet",
        test="results/{dataset}/split/test.parquet",
        transform="results/{dataset}/split/transform.json",
    log:
        "logs/preprocess/{dataset}.log",
    benchmark:
        "benchmarks/preprocess/{dataset}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["preprocess"]["threads"]
    resources:
        mem_mb=resources_for("preprocess", "mem_mb"),
        runtime=resources_for("preprocess", "runtime"),
    params:
        split=config["preprocess"]["split"],
        transforms=config["preprocess"]["transforms"],
        tail_cuts=lambda w: tail_cuts_for(w.dataset),
        phi=config["preprocess"].get("phi"),
        stream=config["preprocess"].get("stream"),
        dataset=ingest_spec,
        representation=lambda w: representation_kind(w.dataset),
        phi_seed=lambda w: seed_for("phi", w.dataset),
        seed=lambda w: seed_for("split", w.dataset),
        config=lambda w: provenance_config(w),
    script:
        "../../scripts/preprocess.py"
