# Packages one trained model into results/<dataset>/models/<model>/generator.pt: the network,
# the fitted transform, the dataset's input description and its cross section, which
# `hepgen sample` and `hepgen.load_generator` use without the workflow; for a model with
# `refine` also the refine stage's classifiers, so the generator draws weighted events.
rule package_model:
    input:
        model="results/{dataset}/models/{model}/model.pt",
        transform="results/{dataset}/split/transform.json",
        ingest_stats="results/{dataset}/events.json",
        # the generation records (cross section) of a simulated dataset's chunks; for user
        # files package.py reads a `.json` beside each file where there is one
        ntuple_stats=lambda w: (
            expand(
                "results/{dataset}/ntuple/chunk{chunk}.json",
                dataset=w.dataset,
                chunk=simulated_chunks(w.dataset),
            )
            if "simulate" in dataset_config(w)
            else []
        ),
        reweighter=reweighter_for,
    output:
        generator="results/{dataset}/models/{model}/generator.pt",
    log:
        "logs/package/{dataset}/{model}.log",
    benchmark:
        "benchmarks/package/{dataset}/{model}.tsv"
    wildcard_constraints:
        model=TRAINED,
    conda:
        "../../envs/model.yaml"
    params:
        dataset=ingest_spec,
        files=lambda w: [] if "simulate" in dataset_config(w) else ingest_inputs(w),
        seed=config["seed"],
        config=lambda w: provenance_config(w),
    script:
        "../../scripts/package.py"
