rule plot_histograms:
    input:
        samples="results/{dataset}/samples/{model}.parquet",
        test="results/{dataset}/split/test.parquet",
        transform="results/{dataset}/split/transform.json",
    output:
        plot=report(
            "results/{dataset}/plots/{model}/features.png",
            caption="../report/features.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "features"},
        ),
    log:
        "logs/plot/{dataset}/{model}.log",
    benchmark:
        "benchmarks/plot/{dataset}/{model}.tsv"
    conda:
        "../../envs/hepgen.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        model=lambda w: w.model,
        dataset=lambda w: w.dataset,
    script:
        "../../scripts/plot_histograms.py"


rule plot_leaderboard:
    input:
        metrics=expand(
            "results/{dataset}/metrics/{model}.json", dataset=DATASETS, model=MODELS
        ),
    output:
        csv=report(
            "results/summary/leaderboard.csv",
            caption="../report/leaderboard.rst",
            category="summary",
            labels={"table": "leaderboard"},
        ),
        md="results/summary/leaderboard.md",
    log:
        "logs/plot/leaderboard.log",
    benchmark:
        "benchmarks/plot/leaderboard.tsv"
    conda:
        "../../envs/hepgen.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        datasets=[d for d in DATASETS for m in MODELS],
        models=[m for d in DATASETS for m in MODELS],
    script:
        "../../scripts/leaderboard.py"
