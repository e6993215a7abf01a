"""Settings for the notebook kernels that nbval starts (they inherit this environment)."""

import os

# One BLAS thread: small matrix products stay steady on a shared 2-core machine,
# and the stored outputs were produced the same way.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
