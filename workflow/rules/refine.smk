# Classifier reweighting (models with `refine`): the samples of <model> gain a `weight` column
# in samples/<model>+rw.parquet, evaluated and plotted as one more row. The truth is the
# validation split: never the test split (the evaluation's) nor the training split. The k
# classifiers go to models/<model>/reweighter.npz, which package_model puts into generator.pt.
rule refine_model:
    input:
        samples="results/{dataset}/samples/{model}.parquet",
        info="results/{dataset}/samples/{model}.json",
        val="results/{dataset}/split/val.parquet",
        transform="results/{dataset}/split/transform.json",
    output:
        samples="results/{dataset}/samples/{model}+rw.parquet",
        info="results/{dataset}/samples/{model}+rw.json",
        reweighter="results/{dataset}/models/{model}/reweighter.npz",
    log:
        "logs/refine/{dataset}/{model}.log",
    benchmark:
        "benchmarks/refine/{dataset}/{model}.tsv"
    wildcard_constraints:
        model=TRAINED,
    priority: PRIORITY["refine"]
    conda:
        "../../envs/evaluate.yaml"
    threads: config["resources"]["refine"]["threads"]
    resources:
        mem_mb=resources_for("refine", "mem_mb"),
        runtime=resources_for("refine", "runtime"),
    params:
        options=lambda w: REFINED[f"{w.model}+rw"][1],
        seed=lambda w: seed_for("refine", w.dataset, w.model),
        config=lambda w: {
            **provenance_config(w, "sample"),
            "refine": REFINED[f"{w.model}+rw"][1],
        },
    script:
        "../../scripts/refine.py"
