"""Per-frame work in worker processes: bounded in flight, results in frame order, a progress bar."""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import islice
from typing import Any, TypeVar

import threadpoolctl
from tqdm.auto import tqdm

R = TypeVar("R")
T = TypeVar("T")

_STATE: dict[str, Any] = {}


_PRELOAD = ["neotrack.imgproc", "neotrack.candidates", "neotrack.linking", "neotrack.solve"]
"""What the fork server imports once, so that each worker it forks starts with them (a worker that
imported them itself would take 1-2 s, at every pool: a ``track`` run starts four)."""


def _context() -> mp.context.BaseContext:
    """Workers forked from a fork server (not from this process, whose threads — the Neo4j
    driver's — a fork would copy mid-state), or spawned where there is none (Windows, macOS)."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["__main__", *_PRELOAD])  # when the server starts: at the first pool
    return context


def _one_thread() -> None:
    """A worker's numerical libraries use one thread: the workers are the parallelism (one per
    core). Left alone, OpenBLAS starts a spinning thread per core in every worker, and two
    workers on two cores ran no faster than one."""
    _STATE["limits"] = threadpoolctl.threadpool_limits(limits=1)


def _init(payload: Any) -> None:
    _one_thread()
    _STATE["payload"] = payload


def _call(func: Callable[[Any, int], Any], t: int) -> Any:
    return func(_STATE["payload"], t)


def map_frames(
    func: Callable[[Any, int], R],
    payload: Any,
    frames: Sequence[int],
    n_workers: int = 1,
    desc: str = "frames",
    progress: bool = False,
) -> Iterator[tuple[int, R]]:
    """Yield ``(t, func(payload, t))`` for each frame, in the order of ``frames``.

    ``payload`` (e.g. the opened inputs) is sent once to each worker; at most ``2 * n_workers``
    frames are in flight, so memory stays bounded by a few frames. ``func`` must be a module-level
    function (it is pickled). With ``n_workers == 1`` everything runs in this process.
    """
    bar = tqdm(total=len(frames), desc=desc, unit="frame", disable=None if progress else True)
    with bar:
        if n_workers <= 1 or len(frames) <= 1:
            for t in frames:
                yield t, func(payload, t)
                bar.update()
            return
        context = _context()
        with ProcessPoolExecutor(
            n_workers, mp_context=context, initializer=_init, initargs=(payload,)
        ) as pool:
            pending = iter(frames)
            running: dict[Future[Any], int] = {}
            done: dict[int, Any] = {}
            order = list(frames)
            next_index = 0

            def submit(k: int) -> None:
                for t in [t for _, t in zip(range(k), pending, strict=False)]:
                    running[pool.submit(_call, func, t)] = t

            submit(2 * n_workers)
            while running:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    t = running.pop(future)
                    done[t] = future.result()  # re-raises the worker's error here
                while next_index < len(order) and order[next_index] in done:
                    t = order[next_index]
                    yield t, done.pop(t)
                    bar.update()
                    next_index += 1
                submit(len(finished))


def map_tasks(
    func: Callable[[T], R],
    tasks: Iterable[T],
    n_workers: int = 1,
    desc: str = "tasks",
    total: int | None = None,
    progress: bool = False,
) -> Iterator[R]:
    """Yield ``func(task)`` for each task, in order; ``tasks`` is consumed lazily, with at most
    ``2 * n_workers`` in flight (each is sent to a worker on its own, e.g. one window's tables).
    With ``n_workers == 1`` everything runs in this process."""
    bar = tqdm(total=total, desc=desc, unit=desc.split()[-1], disable=None if progress else True)
    with bar:
        if n_workers <= 1:
            for task in tasks:
                yield func(task)
                bar.update()
            return
        context = _context()
        with ProcessPoolExecutor(n_workers, mp_context=context, initializer=_one_thread) as pool:
            pending = iter(tasks)
            queue: list[Future[R]] = [pool.submit(func, task) for task in islice(pending, 2 * n_workers)]
            try:
                while queue:
                    result = queue.pop(0).result()  # in order; re-raises the worker's error here
                    queue.extend(pool.submit(func, task) for task in islice(pending, 1))
                    yield result
                    bar.update()
            finally:  # an error (or the caller stopping): what has not started does not start
                for future in queue:
                    future.cancel()
