"""The concurrency models, each as a Python user reaches for it, behind one small interface.

An executor is built before the timing (``open``), then runs a list of tasks — ``(name, fn, args)``
— with ``run(tasks, mode)`` and returns the results in task order whatever the mode. A failing
task's error is re-raised as ``TaskError`` naming the task.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

# Our executor names for Python's models (docs/results-format.md).
NAMES = {"sequential": "plain loop", "thread": "threading.Thread", "pool": "ThreadPoolExecutor",
         "fork": "ProcessPoolExecutor", "coro": "asyncio"}


class TaskError(RuntimeError):
    pass


def _named(name, call):
    try:
        return call()
    except Exception as error:
        raise TaskError(f"task {name!r} failed: {error!r}") from error


class Sequential:
    name = "sequential"

    def __init__(self, workers=1):
        self.workers = 1

    def run(self, tasks, mode="map"):
        return [_named(name, lambda: fn(*args)) for name, fn, args in tasks]

    def close(self):
        pass


class Threads:
    """One threading.Thread per task, at most `workers` alive at once."""

    name = "thread"

    def __init__(self, workers):
        self.workers = workers

    def run(self, tasks, mode="map"):
        results, errors = [None] * len(tasks), {}
        slots = threading.BoundedSemaphore(self.workers)

        def work(i, fn, args):
            try:
                results[i] = fn(*args)
            except Exception as error:
                errors[i] = error
            finally:
                slots.release()

        threads = []
        for i, (_, fn, args) in enumerate(tasks):
            slots.acquire()
            thread = threading.Thread(target=work, args=(i, fn, args))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        for i in sorted(errors):
            raise TaskError(f"task {tasks[i][0]!r} failed: {errors[i]!r}") from errors[i]
        return results

    def close(self):
        pass


class _Pool:
    """A concurrent.futures pool, warmed up to `workers` workers before any timing."""

    def __init__(self, workers):
        self.workers = workers
        self.executor = self.make(workers)
        list(self.executor.map(time.sleep, [0.02] * workers))  # start every worker now

    def run(self, tasks, mode="map"):
        if mode == "map":
            futures = [self.executor.submit(fn, *args) for _, fn, args in tasks]
            return [_named(name, future.result) for (name, _, _), future in zip(tasks, futures)]
        # submit + as_completed: results handled as they finish, put back in task order
        futures = {self.executor.submit(fn, *args): i for i, (_, fn, args) in enumerate(tasks)}
        results = [None] * len(tasks)
        for future in as_completed(futures):
            i = futures[future]
            results[i] = _named(tasks[i][0], future.result)
        return results

    def close(self):
        self.executor.shutdown()


class Pool(_Pool):
    name = "pool"

    @staticmethod
    def make(workers):
        return ThreadPoolExecutor(max_workers=workers)


class Fork(_Pool):
    name = "fork"

    @staticmethod
    def make(workers):
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


class Coro:
    """asyncio: tasks are coroutine functions; at most `workers` in flight on one event loop.

    A task here is ``(name, async_fn, args)``; ``async_fn`` may take an ``aiohttp`` session as its
    first argument when ``session=True`` was given (one session for the whole run, as usual).
    """

    name = "coro"

    def __init__(self, workers, session=False):
        self.workers = workers
        self.session = session

    def run(self, tasks, mode="map"):
        return asyncio.run(self._run(tasks, mode))

    async def _run(self, tasks, mode):
        limit = asyncio.Semaphore(self.workers)
        session = None
        if self.session:
            import aiohttp
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

        async def one(name, fn, args):
            async with limit:
                try:
                    return await (fn(session, *args) if session else fn(*args))
                except Exception as error:
                    raise TaskError(f"task {name!r} failed: {error!r}") from error

        try:
            return await asyncio.gather(*(one(*task) for task in tasks))
        finally:
            if session:
                await session.close()

    def close(self):
        pass


EXECUTORS = {e.name: e for e in (Sequential, Threads, Pool, Fork, Coro)}
