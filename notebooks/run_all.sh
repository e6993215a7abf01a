#!/usr/bin/env bash
# Re-execute every notebook in place, so their stored outputs are what a fresh run gives.
# Usage, from the repository root: bash notebooks/run_all.sh [notebook.ipynb ...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then set -- notebooks/*.ipynb notebooks/exercises/*.ipynb; fi
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MPLBACKEND=Agg
for notebook in "$@"; do
  [ -e "$notebook" ] || continue
  jupyter nbconvert --to notebook --execute --inplace \
    --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.record_timing=False \
    --ExecutePreprocessor.timeout=600 \
    --ClearMetadataPreprocessor.enabled=True --ClearMetadataPreprocessor.clear_notebook_metadata=False \
    --ClearMetadataPreprocessor.preserve_cell_metadata_mask=tags "$notebook"
done
