rule simulate_chunk:
    output:
        ntuple="results/{dataset}/ntuple/chunk{chunk}.root",
        stats="results/{dataset}/ntuple/chunk{chunk}.json",
    params:
        process=lambda w: dataset_config(w)["simulate"]["process"],
        options=simulate_options,
        events=chunk_events,
        ecm=lambda w: dataset_config(w)["simulate"].get("ecm", 13000.0),
        seed=lambda w: seed_for("simulate", w.dataset, w.chunk),
    log:
        "logs/simulate/{dataset}/chunk{chunk}.log",
    benchmark:
        "benchmarks/simulate/{dataset}/chunk{chunk}.tsv"
    threads: config["resources"]["simulate"]["threads"]
    resources:
        mem_mb=resources_for("simulate", "mem_mb"),
        runtime=resources_for("simulate", "runtime"),
    script:
        "../../scripts/simulate.py"
