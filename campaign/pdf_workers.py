"""Render jobs in a pool of worker processes, forked from a server that has WeasyPrint loaded."""

from __future__ import annotations

import atexit
import ctypes
import logging
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.pool
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from itertools import chain, islice
from pathlib import Path
from typing import Any, Protocol

from campaign.pdf import RenderJob, render_pdf

log = logging.getLogger(__name__)

# Workers are forked from a fork server that has already imported WeasyPrint and this module.
# Measured (2 workers, 2 one-line jobs, 2 busy cores): "fork" 0.26 s for a new pool, "spawn"
# 1.2-1.3 s for every new pool (interpreter start and imports in each worker), "forkserver"
# 1.2 s once per process (starting the server) and then 0.21 s for a new pool, like fork; a
# warm pool answers in 0.04 s with any method. Unlike a plain fork, the fork server never copies
# the threads and held locks of a multithreaded Flask process into a worker.
START_METHOD = "forkserver"


class RenderError(Exception):
    """A document could not be rendered."""


class RenderTimeout(RenderError):
    """A batch of documents was not rendered within its time limit."""


class WorkersStopped(RenderError):
    """The render workers stopped under a batch: one was killed from outside (the memory
    killer, a stop of the service), and the part it held would never have come back; or the
    process is exiting, and starts no more."""


class DrawJob(Protocol):
    """A document drawn without WeasyPrint (pdf_table_painter.TableJob): render_many runs it too."""

    def draw(self) -> bytes:
        """Return the PDF."""
        ...


def _produce(job: RenderJob | DrawJob, static_root: Path) -> bytes:
    if isinstance(job, RenderJob):
        return render_pdf(job, static_root)
    return job.draw()


def _render_in_worker(job: RenderJob | DrawJob, static_root: Path) -> bytes:
    # Only a short message crosses back: WeasyPrint's exceptions may quote the document.
    try:
        return _produce(job, static_root)
    except Exception as exc:
        raise RenderError(_short(exc)) from None
    finally:
        if isinstance(job, RenderJob):
            _hand_back_memory()


def _hand_back_memory() -> None:
    """Give the memory WeasyPrint freed back to the system.

    glibc keeps it for the worker otherwise: the worker that laid out a dossier's cover (its
    CSV attachment is 26 MB at 100,000 signatories) stayed 25 MB larger than the other for
    the rest of the render. A trim takes about a millisecond; drawn blocks need none.
    """
    # Not glibc: the memory stays with the process, nothing worse.
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _short(exc: BaseException) -> str:
    if isinstance(exc, RenderError):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc)[:200]}"


# How long stopping the pool waits for its queue's read lock before going on without it.
_LOCK_WAIT_SECONDS = 2.0


class _Pool(multiprocessing.pool.Pool):
    """multiprocessing's pool, whose shutdown cannot hang on a worker killed from outside.

    An idle worker waits for work holding the task queue's read lock. When systemd stops the
    service it sends SIGTERM to the whole process group: the workers die at once, one of them
    holding that lock, and Pool.terminate (at exit, or after a failed render) waited for it
    forever (`flask tasks worker` never exited). This waits a moment, then goes on: the dead
    workers need no help to finish, and terminate kills the living ones as before.
    """

    @staticmethod
    def _help_stuff_finish(inqueue: Any, task_handler: threading.Thread, size: int) -> None:
        # The standard method with a bounded wait (CPython 3.11-3.13 name these the same).
        if not inqueue._rlock.acquire(timeout=_LOCK_WAIT_SECONDS):
            log.warning("render worker pool: a killed worker held its queue; stopping anyway")
            return
        while task_handler.is_alive() and inqueue._reader.poll():
            inqueue._reader.recv()
            time.sleep(0)


_pool_lock = threading.Lock()
_pool: multiprocessing.pool.Pool | None = None
_pool_size = 0
# Held while a pool is started, and by the exit hook while it says that none may be.
_start_lock = threading.Lock()
_closed = False


def _get_pool(processes: int) -> multiprocessing.pool.Pool:
    with _start_lock:
        if _closed:
            # A job's thread still rendering when its process exits (`flask tasks worker`
            # after SIGTERM) would start workers that nothing stops: multiprocessing's own
            # exit hook then waited forever to hand one of them a job.
            raise WorkersStopped("the process is exiting: no render workers are started")
        return _start_pool(processes)


def _start_pool(processes: int) -> multiprocessing.pool.Pool:
    global _pool, _pool_size
    if _pool is None or _pool_size != processes:
        _discard_pool()
        context = multiprocessing.get_context(START_METHOD)
        if START_METHOD == "forkserver":
            # Imported once in the fork server, so each worker starts with WeasyPrint and the
            # table painter loaded: imported later, in a worker, a module could be of newer
            # code than the process that sends it jobs (a deployment in progress).
            context.set_forkserver_preload([__name__, "campaign.pdf_table_painter"])
        _pool = _Pool(processes, initializer=_ignore_interrupts, context=context)
        _pool_size = processes
    return _pool


def _ignore_interrupts() -> None:
    # Ctrl-C in a terminal interrupts the whole process group: the workers leave stopping to
    # the application (its exit hook terminates them), instead of each printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# Stopping the pool gives up waiting after this long, and kills what is left of it.
_STOP_SECONDS = 10.0


def _discard_pool() -> None:
    global _pool, _pool_size
    pool, _pool, _pool_size = _pool, None, 0
    if pool is None:
        return
    # After SIGTERM to the process group the fork server is dead too, so the pool's worker
    # handler dies trying to replace the workers, before it could put the sentinel that ends
    # the task handler, which terminate() then joined forever. Put it here (one more is
    # harmless), and never wait without limit: whatever else a killed worker left locked
    # must not keep a stopping process (`flask tasks worker` under systemd) from exiting.
    pool._taskqueue.put(None)  # type: ignore[attr-defined]
    stopper = threading.Thread(
        target=_terminate, args=(pool,), name="render-workers-stop", daemon=True
    )
    try:
        stopper.start()
    except RuntimeError:
        # Python 3.12.0 and 3.12.1 start no thread once the interpreter is exiting (the exit
        # hook's case). Stopping without the time limit is what multiprocessing's own hook
        # would do next; what made it hang is mended above and in _Pool.
        _terminate(pool)
        return
    stopper.join(_STOP_SECONDS)
    if stopper.is_alive():
        log.warning("render worker pool not stopped within %g s; killing it", _STOP_SECONDS)
        for process in pool._pool:  # type: ignore[attr-defined]
            if process.is_alive():
                process.kill()


def _terminate(pool: multiprocessing.pool.Pool) -> None:
    pool.terminate()
    pool.join()


def _close() -> None:
    """Stop the pool, and let no other be started: the process is exiting."""
    global _closed
    locked = _start_lock.acquire(timeout=_STOP_SECONDS)
    _closed = True
    if locked:
        _start_lock.release()
    _discard_pool()


# Runs before multiprocessing's own exit hook (atexit is last-in, first-out), so the workers
# are stopped and joined and no "unclosed pool" ResourceWarning is left for interpreter exit.
atexit.register(_close)


def pool_pids() -> list[int]:
    """Return the process ids of the current worker pool (for tests and health checks)."""
    with _pool_lock:
        if _pool is None:
            return []
        return [process.pid for process in _pool._pool if process.pid]  # type: ignore[attr-defined]


def shutdown(*, fork_server: bool = False) -> None:
    """Stop the worker pool now, and the fork server too if asked; render_many starts them again.

    The fork server holds WeasyPrint imported (about 60 MB); starting it again takes a second.
    """
    with _pool_lock:
        _discard_pool()
        if fork_server and START_METHOD == "forkserver":
            # Python has no public way to stop it; ForkServer._stop has been there since 3.8
            # (its own tests use it). Without it the server stays, as it would anyway.
            stop = getattr(multiprocessing.forkserver._forkserver, "_stop", None)
            if stop is not None:
                stop()


def start_workers(processes: int) -> None:
    """Start the worker pool in the background unless it runs, for a render about to begin.

    Starting it (the fork server imports WeasyPrint) takes about a second, which can overlap
    with reading the data. render_many waits for it; should it fail, render_many starts one.
    """
    if processes == 0:
        return

    def start() -> None:
        try:
            with _pool_lock:
                _get_pool(processes)
        except Exception as exc:  # render_many tries again, and reports a failure
            log.warning("render workers not started ahead: %s", type(exc).__name__)

    threading.Thread(target=start, name="render-workers-start", daemon=True).start()


# Jobs made ahead of the workers, per process: enough that a worker never waits for the next
# job while this thread makes it, few enough that their laid-out pages stay small.
JOBS_AHEAD_PER_PROCESS = 2


# How often a batch waiting for its parts looks whether all its workers are still there.
_WATCH_SECONDS = 1.0


def _worker_pids(pool: multiprocessing.pool.Pool) -> frozenset[int]:
    # The pool's own thread replaces a worker that died (it is never asked to retire one:
    # no maxtasksperchild), so a process id gone from this set is a worker that was killed.
    return frozenset(process.pid for process in list(pool._pool))  # type: ignore[attr-defined]


def _as_is(_index: int, pdf: bytes) -> Any:
    return pdf


def render_many(
    jobs: Iterable[RenderJob | DrawJob],
    *,
    static_root: Path,
    processes: int,
    time_limit: float,
    on_done: Callable[[int], None] | None = None,
    keep: Callable[[int, bytes], Any] = _as_is,
    until: float | None = None,
) -> list[Any]:
    """Render jobs in worker processes within time_limit seconds; return PDFs in job order.

    jobs may be made as they are asked for (a generator): at most JOBS_AHEAD_PER_PROCESS jobs
    per process are taken ahead of those the workers have finished, so that a long document's
    laid-out blocks are not all held at once. An exception raised by jobs ends the batch.
    keep(index, pdf) is called in the calling thread as each PDF arrives, and what it returns
    stands for that PDF in the list (say, a file it was written to): the PDFs need not all be
    held in memory at once. until (a time.monotonic() value) ends the time limit earlier, for
    a batch that is part of a larger task with a limit of its own.
    """
    # processes=0 renders in the calling thread, one job after another, and enforces no time
    # limit (tests, the CLI). Otherwise batches from several threads run one after another:
    # the pool is shared, and a timeout or a failure replaces it (its workers are killed, the
    # next call forks fresh ones). A worker killed from outside (the OOM killer) loses its job,
    # which multiprocessing's pool never reports: the batch ends in WorkersStopped once it sees
    # that one of its workers is gone (within _WATCH_SECONDS), rather than at its time limit.
    if processes == 0:
        results = []
        for index, job in enumerate(jobs):
            try:
                pdf = _produce(job, static_root)
            except Exception as exc:
                raise RenderError(f"part {index}: {_short(exc)}") from None
            results.append(keep(index, pdf))
            if on_done is not None:
                on_done(index)
        return results

    ahead = JOBS_AHEAD_PER_PROCESS * processes
    waiting = iter(jobs)
    # The first jobs are made before the pool is free (another batch may hold it).
    first = list(islice(waiting, ahead))
    if not first:
        return []
    waiting = chain(first, waiting)
    del first
    with _pool_lock:
        # The limit counts from when this batch has the pool, so waiting for another thread's
        # batch does not eat into it; starting the workers (a fork each) does.
        deadline = time.monotonic() + time_limit
        if until is not None:
            deadline = min(deadline, until)
        pool = _get_pool(processes)
        workers = _worker_pids(pool)
        finished: queue.SimpleQueue[tuple[int, bool, Any]] = queue.SimpleQueue()
        results: list[Any] = []
        pending = 0
        try:
            while True:
                while pending < ahead and (job := next(waiting, None)) is not None:
                    index = len(results)
                    results.append(None)
                    # Callbacks run on the pool's result thread: hand results to this thread.
                    pool.apply_async(
                        _render_in_worker,
                        (job, Path(static_root)),
                        callback=lambda pdf, index=index: finished.put((index, True, pdf)),
                        error_callback=lambda exc, index=index: finished.put((index, False, exc)),
                    )
                    pending += 1
                job = None  # (held by the pool's queue until sent, not here)
                if not pending:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RenderTimeout(f"{pending} parts not rendered within {time_limit:g} s")
                if not workers <= _worker_pids(pool):
                    raise WorkersStopped(f"a render worker stopped with {pending} parts under way")
                try:
                    index, ok, value = finished.get(timeout=min(remaining, _WATCH_SECONDS))
                except queue.Empty:
                    continue
                if not ok:
                    raise RenderError(f"part {index}: {_short(value)}") from None
                results[index] = keep(index, value)
                pending -= 1
                if on_done is not None:
                    on_done(index)
        finally:
            if pending:
                # Stop the workers still rendering this batch: they must not eat CPU or
                # delay the next batch.
                _discard_pool()
    return results
