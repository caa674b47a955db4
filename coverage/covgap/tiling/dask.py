"""Run the tile tasks of :mod:`covgap.tiling` on dask.distributed.

A local cluster when asked (``workers=N``), or the address of an existing scheduler
(``scheduler="tcp://host:8786"``) to scale out over machines. The tasks, their inputs and
the merge rules are those of the single-process run, so the results are identical
(tested). Workers must see the same ``workdir`` (a shared filesystem on a real cluster)
and have covgap installed.

Needs the optional dependencies ``dask`` and ``distributed`` (``pip install "covgap[scale]"``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError, CovgapError
from ..grid import Grid
from ..models.base import CoverageModel
from . import DEFAULT_TILE_SIZE, RasterSource, TiledCoverage, compute_coverage_tiled

__all__ = ["dask_client", "compute_coverage_distributed", "client_threads"]


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - the test environment has it
        raise ConfigError(
            "dask.distributed is not installed, so tiles cannot run on a Dask cluster. "
            "Fix: pip install 'covgap[scale]' (dask, distributed), or run without --scheduler/--workers."
        ) from exc
    return distributed


@contextlib.contextmanager
def dask_client(*, scheduler: str | None = None, workers: int | None = None, threads_per_worker: int = 1,
                processes: bool = True, memory_limit: str | float | None = "auto",
                timeout: str = "10s") -> Iterator[Any]:
    """A ``distributed.Client``: connected to ``scheduler``, or to a new ``LocalCluster``.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). Mutually exclusive with ``workers``.
    workers : int, optional
        Start a local cluster with this many workers (default 1 when no scheduler is given).
    threads_per_worker : int
        Threads per local worker (1: one core each; tile tasks use numba threads inside).
    processes : bool
        Local workers as processes (``True``, real parallelism) or threads in this process.
    memory_limit : str or float or None
        Per-worker memory limit of the local cluster (dask's syntax).
    timeout : str
        How long to try reaching ``scheduler``.

    The client (and a local cluster) is closed on exit.
    """
    distributed = _import_distributed()
    if scheduler and workers:
        raise ConfigError(f"give either a scheduler address ({scheduler!r}) or a number of local workers "
                          f"({workers}), not both.")
    if workers is not None and int(workers) < 1:
        raise ConfigError(f"workers = {workers!r}; expected at least 1 local worker.")
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise CovgapError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}. Fix: check the address "
                              "(e.g. tcp://host:8786) and that `dask scheduler` is running there.") from exc
        try:
            yield client
        finally:
            client.close()
        return
    cluster = distributed.LocalCluster(n_workers=int(workers or 1), threads_per_worker=int(threads_per_worker),
                                       processes=bool(processes), dashboard_address=":0",
                                       silence_logs=logging.ERROR, memory_limit=memory_limit)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def client_threads(client: Any) -> int:
    """Total worker threads of a ``distributed.Client`` (at least 1)."""
    info = client.scheduler_info()
    return max(sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()), 1)


def compute_coverage_distributed(grid: Grid, sites: pd.DataFrame, model: CoverageModel, *,
                                 scheduler: str | None = None, workers: int | None = None,
                                 threads_per_worker: int = 1, processes: bool = True,
                                 dem: RasterSource = None, tile_size: int | tuple[int, int] = DEFAULT_TILE_SIZE,
                                 halo_m: float | None = None, workdir: str | Path | None = None,
                                 resume: bool = True, progress: bool = False) -> TiledCoverage:
    """:func:`covgap.tiling.compute_coverage_tiled` with the tiles run on a Dask cluster.

    Numba threads per task are set to ``threads_per_worker``; at most two tasks per worker
    thread are queued at once.

    Examples
    --------
    >>> from covgap.models.radius import RadiusModel  # doctest: +SKIP
    >>> tc = compute_coverage_distributed(grid, sites, RadiusModel(), workers=2)  # doctest: +SKIP
    >>> coverage = tc.to_coverage()  # doctest: +SKIP
    """
    with dask_client(scheduler=scheduler, workers=workers, threads_per_worker=threads_per_worker,
                     processes=processes) as client:
        return compute_coverage_tiled(grid, sites, model, dem=dem, tile_size=tile_size, halo_m=halo_m,
                                      workdir=workdir, resume=resume, executor=client,
                                      numba_threads=threads_per_worker, max_in_flight=2 * client_threads(client),
                                      progress=progress)
