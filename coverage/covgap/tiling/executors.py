"""Executors for tile tasks: this process, ``concurrent.futures`` executors, or a Dask client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["run_tasks"]


def run_tasks(fn: Callable[[dict], dict], specs: Iterable[dict], total: int, executor: Any, *, desc: str,
         progress: bool, max_in_flight: int = 8) -> list[dict]:
    """Run ``fn`` over ``specs`` on ``executor`` (None = here), results in completion order.

    At most ``max_in_flight`` tasks are submitted at once, so specs (which may carry raster
    windows) are made only as workers become free.
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="tile", disable=not progress)
    out: list[dict] = []
    pending: set = set()
    try:
        if executor is None:
            for s in specs:
                out.append(fn(s))
                bar.update()
            return out
        wait = _wait_function(executor)
        it = iter(specs)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < max(int(max_in_flight), 1):
                try:
                    pending.add(_submit(executor, fn, next(it)))
                except StopIteration:
                    exhausted = True
            if not pending:
                break
            done, not_done = wait(list(pending), return_when="FIRST_COMPLETED")
            for fut in done:
                out.append(fut.result())
                bar.update()
            pending = set(not_done)
        return out
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    finally:
        bar.close()


def _submit(executor: Any, fn: Callable, spec: dict) -> Any:
    if _is_dask(executor):
        return executor.submit(fn, spec, pure=False, key=f"covgap-{fn.__name__.strip('_')}-{spec['tile'].name}-"
                                                          f"{os.urandom(4).hex()}")
    return executor.submit(fn, spec)


def _is_dask(executor: Any) -> bool:
    return type(executor).__module__.startswith("distributed")


def _wait_function(executor: Any) -> Callable:
    if _is_dask(executor):
        from distributed import wait

        return wait
    import concurrent.futures as cf

    return cf.wait

