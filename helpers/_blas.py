"""numpy's BLAS on one thread, for a while: what a small product and a fair timing need.

On a busy machine (a shared server, Binder, CI) a second OpenBLAS thread waits to be scheduled,
and while it waits it spins: an explorer's small product took 0.3 s instead of 3 ms, and the
CPU time of a timed exercise case counted tens of milliseconds that were no work of the
answer's. ``one_blas_thread()`` sets OpenBLAS to one thread and gives the count back after.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

_BLAS_THREADS: list = []  # (get, set) of the BLAS numpy uses, once found; [None]: none found


def _blas_thread_calls():
    """numpy's OpenBLAS thread-count functions, or None when numpy uses another BLAS."""
    if not _BLAS_THREADS:
        import ctypes
        import glob
        import os

        found = None
        for path in sorted(glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs",
                                                  "*blas*"))):
            try:
                lib = ctypes.CDLL(path)  # the library numpy has loaded already: same copy
            except OSError:
                continue
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", ""):
                    get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    if get is not None and put is not None and found is None:
                        found = (get, put)
        _BLAS_THREADS.append(found)
    return _BLAS_THREADS[0]


@contextmanager
def one_blas_thread():
    """Run numpy's matrix products on one thread for the duration (then restore)."""
    calls = _blas_thread_calls()
    if calls is None:
        yield
        return
    get, put = calls
    before = get()
    put(1)
    try:
        yield
    finally:
        put(before)
