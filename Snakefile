# hepgen: ROOT ntuples -> trained generative event generators -> samples -> metrics -> plots.
# Stages and their files are described in README.md; the config in config/README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/package.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/refine.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/plots.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
