# One rule per figure: rule plot_X runs scripts/plot_X.py, whose figure code lives in
# hepgen.plotting.X (tests/test_workflow_layout.py keeps it so).
rule plot_preprocessing:
    input:
        train="results/{dataset}/split/train.parquet",
        transform="results/{dataset}/split/transform.json",
    output:
        plot=report(
            "results/{dataset}/plots/preprocessing.png",
            caption="../report/preprocessing.rst",
            category="{dataset}",
            subcategory="preprocessing",
        ),
    log:
        "logs/plot/{dataset}/preprocessing.log",
    benchmark:
        "benchmarks/plot/{dataset}/preprocessing.tsv"
    conda:
        "../../envs/plot.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    script:
        "../../scripts/plot_preprocessing.py"


rule plot_histograms:
    input:
        samples="results/{dataset}/samples/{model}.parquet",
        test="results/{dataset}/split/test.parquet",
        transform="results/{dataset}/split/transform.json",
        metrics="results/{dataset}/metrics/{model}.json",
    output:
        plot=report(
            "results/{dataset}/plots/{model}/histograms.png",
            caption="../report/histograms.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "histograms"},
        ),
    log:
        "logs/plot/{dataset}/{model}/histograms.log",
    benchmark:
        "benchmarks/plot/{dataset}/{model}/histograms.tsv"
    conda:
        "../../envs/plot.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        model=lambda w: w.model,
        dataset=lambda w: w.dataset,
    script:
        "../../scripts/plot_histograms.py"


rule plot_observables:
    input:
        samples="results/{dataset}/samples/{model}.parquet",
        test="results/{dataset}/split/test.parquet",
        transform="results/{dataset}/split/transform.json",
        metrics="results/{dataset}/metrics/{model}.json",
    output:
        plot=report(
            "results/{dataset}/plots/{model}/observables.png",
            caption="../report/observables.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "observables"},
        ),
    log:
        "logs/plot/{dataset}/{model}/observables.log",
    benchmark:
        "benchmarks/plot/{dataset}/{model}/observables.tsv"
    conda:
        "../../envs/plot.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        model=lambda w: w.model,
        dataset=lambda w: w.dataset,
    script:
        "../../scripts/plot_observables.py"


rule plot_correlations:
    input:
        samples="results/{dataset}/samples/{model}.parquet",
        test="results/{dataset}/split/test.parquet",
        transform="results/{dataset}/split/transform.json",
        metrics="results/{dataset}/metrics/{model}.json",
    output:
        plot=report(
            "results/{dataset}/plots/{model}/correlations.png",
            caption="../report/correlations.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "correlations"},
        ),
    log:
        "logs/plot/{dataset}/{model}/correlations.log",
    benchmark:
        "benchmarks/plot/{dataset}/{model}/correlations.tsv"
    conda:
        "../../envs/plot.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        model=lambda w: w.model,
        dataset=lambda w: w.dataset,
    script:
        "../../scripts/plot_correlations.py"


rule plot_latent:
    input:
        model="results/{dataset}/models/{model}/model.pt",
        test="results/{dataset}/split/test.parquet",
        transform="results/{dataset}/split/transform.json",
    output:
        plot=report(
            "results/{dataset}/plots/{model}/latent.png",
            caption="../report/latent.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "latent space"},
        ),
    log:
        "logs/plot/{dataset}/{model}/latent.log",
    benchmark:
        "benchmarks/plot/{dataset}/{model}/latent.tsv"
    wildcard_constraints:
        model=TRAINED,
    conda:
        "../../envs/plot.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        seed=lambda w: seed_for("latent", w.dataset, w.model),
        model=lambda w: w.model,
        dataset=lambda w: w.dataset,
    script:
        "../../scripts/plot_latent.py"


rule plot_training:
    input:
        history="results/{dataset}/models/{model}/history.csv",
    output:
        plot=report(
            "results/{dataset}/plots/{model}/training.png",
            caption="../report/training.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "training"},
        ),
    log:
        "logs/plot/{dataset}/{model}/training.log",
    benchmark:
        "benchmarks/plot/{dataset}/{model}/training.tsv"
    wildcard_constraints:
        model=TRAINED,
    conda:
        "../../envs/plot.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        model=lambda w: w.model,
        dataset=lambda w: w.dataset,
    script:
        "../../scripts/plot_training.py"


rule plot_weights:
    input:
        samples="results/{dataset}/samples/{model}.parquet",
        info="results/{dataset}/samples/{model}.json",
    output:
        plot=report(
            "results/{dataset}/plots/{model}/weights.png",
            caption="../report/weights.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "weights"},
        ),
    log:
        "logs/plot/{dataset}/{model}/weights.log",
    benchmark:
        "benchmarks/plot/{dataset}/{model}/weights.tsv"
    wildcard_constraints:
        model=REWEIGHTED,
    conda:
        "../../envs/plot.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        model=lambda w: w.model,
        dataset=lambda w: w.dataset,
    script:
        "../../scripts/plot_weights.py"


rule plot_leaderboard:
    input:
        metrics=expand(
            "results/{dataset}/metrics/{model}.json", dataset=DATASETS, model=SAMPLES
        ),
    output:
        csv=report(
            "results/summary/leaderboard.csv",
            caption="../report/leaderboard.rst",
            category="summary",
            labels={"table": "leaderboard"},
        ),
        md="results/summary/leaderboard.md",
        tex="results/summary/leaderboard.tex",
        plot=report(
            "results/summary/leaderboard.png",
            caption="../report/leaderboard_figure.rst",
            category="summary",
            labels={"figure": "leaderboard"},
        ),
    log:
        "logs/plot/leaderboard.log",
    benchmark:
        "benchmarks/plot/leaderboard.tsv"
    conda:
        "../../envs/plot.yaml"
    threads: config["resources"]["plot"]["threads"]
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        datasets=[d for d in DATASETS for m in SAMPLES],
        models=[m for d in DATASETS for m in SAMPLES],
    script:
        "../../scripts/plot_leaderboard.py"


# Fast simulation (a `pairs` dataset, a conditional model): resolution and efficiency per gen pT
# and |eta| bin against the held-out truth and the parametrised detector's own resolution.
rule plot_response:
    input:
        metrics="results/{dataset}/metrics/{model}.json",
    output:
        plot=report(
            "results/{dataset}/plots/{model}/response.png",
            caption="../report/response.rst",
            category="{dataset}",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "response"},
        ),
    log:
        "logs/plot/{dataset}/{model}/response.log",
    benchmark:
        "benchmarks/plot/{dataset}/{model}/response.tsv"
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=resources_for("plot", "mem_mb"),
        runtime=resources_for("plot", "runtime"),
    params:
        dataset=lambda w: w.dataset,
        model=lambda w: w.model,
        simulate=lambda w: dataset_config(w).get("simulate"),
        gen_prefix=lambda w: dataset_config(w)["pairs"]["gen"].get("prefix", ""),
    script:
        "../../scripts/plot_response.py"
