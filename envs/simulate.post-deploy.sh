#!/usr/bin/env bash
# Snakemake runs this inside the new environment, from the directory it was started in
# (the checkout's root, unless HEPGEN_SOURCE names the checkout).
set -euo pipefail
python -m pip install --quiet --no-deps --editable "${HEPGEN_SOURCE:-$PWD}"
