rule ingest_events:
    input:
        ntuples=ingest_inputs,
    output:
        table="results/{dataset}/events.parquet",
        stats="results/{dataset}/events.json",
    log:
        "logs/ingest/{dataset}.log",
    benchmark:
        "benchmarks/ingest/{dataset}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["ingest"]["threads"]
    resources:
        mem_mb=resources_for("ingest", "mem_mb"),
        runtime=resources_for("ingest", "runtime"),
    params:
        spec=ingest_spec,
        config=lambda w: provenance_config(w),
        seed=config["seed"],
    script:
        "../../scripts/ingest.py"
