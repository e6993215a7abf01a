#!/usr/bin/env bash
# Re-execute notebooks in place, so their stored outputs are what a fresh run gives.
# From any folder:
#   bash tools/run_notebooks.sh                  # every notebook: walkthrough, teachers/solutions, student versions
#   bash tools/run_notebooks.sh NOTEBOOK...      # just these (paths from the repository root)
# It keeps each cell's tags (nbval-ignore-output), nbgrader metadata, lock (editable, deletable) and folded
# source (jupyter), and drops all other cell metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MPLBACKEND=Agg  # one BLAS thread, as the notebooks' setup cells set
everything=false
if [ $# -eq 0 ]; then
  everything=true
  set -- notebooks/*.ipynb teachers/solutions/*.ipynb
fi
for notebook in "$@"; do
  jupyter nbconvert --to notebook --execute --inplace \
    --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.record_timing=False \
    --ExecutePreprocessor.timeout=600 \
    --ClearMetadataPreprocessor.enabled=True --ClearMetadataPreprocessor.clear_notebook_metadata=False \
    --ClearMetadataPreprocessor.preserve_cell_metadata_mask=tags \
    --ClearMetadataPreprocessor.preserve_cell_metadata_mask=nbgrader \
    --ClearMetadataPreprocessor.preserve_cell_metadata_mask=editable \
    --ClearMetadataPreprocessor.preserve_cell_metadata_mask=deletable \
    --ClearMetadataPreprocessor.preserve_cell_metadata_mask=jupyter "$notebook"
done
if $everything; then
  python tools/make_student_versions.py  # writes the student notebooks from the solutions, then runs them
fi
