"""Process settings the training scripts apply before importing torch.

- One thread: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS are 1 (Debian's
  PyTorch multiplies through OpenBLAS, whose own thread pool ignores
  torch.set_num_threads), so a training uses one core of a shared machine.
- glibc's malloc keeps freed memory (MALLOC_MMAP_THRESHOLD_,
  MALLOC_TRIM_THRESHOLD_, MALLOC_ARENA_MAX) instead of handing it back to
  the kernel: PyTorch allocates and frees tensors of tens of megabytes every
  step (the logits over the vocabulary), and on a virtual machine faulting
  fresh pages in costs more than the arithmetic on them.

glibc reads its variables when the process starts, so prepare() re-executes
the script once with them set. Variables already set are left as they are.
None of this changes any result, only the speed.
"""

import os
import sys

ENVIRONMENT = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MALLOC_MMAP_THRESHOLD_": str(1 << 30),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
    "MALLOC_ARENA_MAX": "1",
}


def prepare():
    missing = {k: v for k, v in ENVIRONMENT.items() if k not in os.environ}
    if missing:
        os.environ.update(missing)
        os.execv(sys.executable, [sys.executable] + sys.argv)
