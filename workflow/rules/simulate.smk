rule simulate_chunk:
    output:
        ntuple="results/{dataset}/ntuple/chunk{chunk}.root",
        stats="results/{dataset}/ntuple/chunk{chunk}.json",
    log:
        "logs/simulate/{dataset}/chunk{chunk}.log",
    benchmark:
        "benchmarks/simulate/{dataset}/chunk{chunk}.tsv"
    conda:
        "../../envs/simulate.yaml"
    threads: config["resources"]["simulate"]["threads"]
    resources:
        mem_mb=resources_for("simulate", "mem_mb"),
        runtime=resources_for("simulate", "runtime"),
    params:
        process=lambda w: dataset_config(w)["simulate"]["process"],
        options=simulate_options,
        events=chunk_events,
        slice=chunk_slice,
        ecm=lambda w: dataset_config(w)["simulate"].get("ecm", 13000.0),
        seed=lambda w: seed_for("simulate", w.dataset, w.chunk),
    script:
        "../../scripts/simulate.py"
