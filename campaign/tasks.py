"""The task queue: jobs declared by name, run by huey off the request, inside the app."""

import atexit
import json
import logging
import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Task, TaskWrapper
from huey.consumer import Consumer
from huey.exceptions import CancelExecution
from huey.storage import SqliteStorage

from campaign.private_files import private_file, private_folder

logger = logging.getLogger(__name__)

JobFunction = TypeVar("JobFunction", bound=Callable[..., None])

# Idle in-process consumers poll SQLite at most this often (seconds): the user is watching a
# progress page, and one indexed SELECT a second is cheap. huey's default is 10 s.
_MAX_POLL_DELAY = 1.0
# At interpreter exit (Ctrl-C on `flask run`, a reload) a running job gets this long to
# finish: a job killed mid-run has already left the queue and would be lost.
_EXIT_GRACE_SECONDS = 30.0


class UnknownJob(LookupError):
    """No job of that name is registered in this process."""

    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(_jobs)) or "none"
        super().__init__(
            f"No job named {name!r} is registered (known: {known}); declare it with "
            "@tasks.job(name) in a module that create_app() imports."
        )
        self.name = name


@dataclass(frozen=True)
class Job:
    """A registered job: its function and its retry policy."""

    name: str
    func: Callable[..., None]
    retries: int
    retry_delay: float
    # Called with the job's arguments when the worker stops (SIGTERM) while the job runs, so
    # that what it was doing is left failed with a reason or queued again, not "running".
    on_interrupt: Callable[..., None] | None = None


# Functions are code, shared by every app; huey instances are per app (see TaskQueue), each
# with one generic task, "campaign.tasks.run"(name, args), that looks the name up here. So
# domain modules declare jobs without this module importing them, and tests make many apps.
_jobs: dict[str, Job] = {}


def job(
    name: str,
    *,
    retries: int = 0,
    retry_delay: float = 0.0,
    on_interrupt: Callable[..., None] | None = None,
) -> Callable[[JobFunction], JobFunction]:
    """Register the decorated function as the job `name`; it takes JSON values (ids).

    `on_interrupt(*args)` runs, in an app context, when the worker is stopped mid-job.
    """
    if not name:
        raise ValueError("A job needs a name, such as 'dossiers.render'.")
    if retries < 0 or retry_delay < 0:
        raise ValueError("retries and retry_delay cannot be negative.")

    def register(func: JobFunction) -> JobFunction:
        existing = _jobs.get(name)
        # Re-registering the same function (a module reloaded) is harmless; two functions
        # under one name would make the queue run whichever was imported last.
        if existing is not None and _qualified(existing.func) != _qualified(func):
            raise ValueError(f"Job name {name!r} is already used by {_qualified(existing.func)}.")
        _jobs[name] = Job(name, func, retries, retry_delay, on_interrupt)
        return func

    return register


def registered_job(name: object) -> Job | None:
    """Return the job registered under this name, if any."""
    return _jobs.get(name) if isinstance(name, str) else None


def _qualified(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def enqueue(name: str, *args: Any) -> str:
    """Queue the job `name` with JSON arguments (ids) and return the task id; commit first."""
    return enqueue_later(0.0, name, *args)


def enqueue_later(delay: float, name: str, *args: Any) -> str:
    """Queue the job `name` to run `delay` seconds from now (0: at once); see enqueue()."""
    # Commit the rows the job reads before calling this: the consumer may start at once.
    registered = _jobs.get(name)
    if registered is None:
        raise UnknownJob(name)
    try:
        # The round trip makes immediate mode see exactly what a real queue would deliver.
        payload = json.loads(json.dumps(list(args)))
    except (TypeError, ValueError) as error:
        types = ", ".join(type(arg).__name__ for arg in args)
        raise TypeError(
            f"Job {name!r} takes plain JSON values such as ids, not ({types}); "
            "pass object.id rather than the object."
        ) from error
    return get_queue(current_app).enqueue(registered, payload, delay=delay)


def get_queue(app: Flask) -> "TaskQueue":
    """Return the app's task queue (its huey instance is `.huey`)."""
    try:
        return app.extensions["tasks"]
    except KeyError:
        raise RuntimeError("tasks.init_app(app) has not been called for this app.") from None


def init_app(app: Flask) -> None:
    """Give the app its huey instance; no file or connection is opened until it is used."""
    queue = TaskQueue(app)
    app.extensions["tasks"] = queue
    if queue.embedded and queue.kind == "sqlite":
        app.before_request(queue.pick_up_leftovers)


def stop(app: Flask, timeout: float = 10.0) -> None:
    """Stop the app's in-process consumer (waiting up to `timeout` s) and close connections."""
    get_queue(app).stop(timeout)


def create_consumer(
    app: Flask, workers: int | None = None, *, handle_signals: bool = True
) -> Consumer:
    """Build huey's consumer for the app's queue: `.run()` blocks, `.start()` runs threads."""
    return get_queue(app).consumer(workers, handle_signals=handle_signals)


class _Consumer(Consumer):
    """huey's consumer, leaving signals alone when it is not in charge of the process."""

    def __init__(self, huey: Huey, *, handle_signals: bool, **options: Any) -> None:
        self._handle_signals = handle_signals
        super().__init__(huey, **options)

    def _set_signal_handlers(self) -> None:
        # Inside the web app, SIGINT and SIGTERM belong to the server; signal.signal would
        # also fail outside the main thread.
        if self._handle_signals:
            super()._set_signal_handlers()

    def _create_process(self, process: Any, name: str) -> Any:
        # Recognisable thread names in py-spy, faulthandler dumps and tests.
        return super()._create_process(process, f"tasks-{name}")


def _new_consumer(huey: Huey, workers: int, handle_signals: bool) -> Consumer:
    return _Consumer(
        huey,
        handle_signals=handle_signals,
        workers=workers,
        # No periodic tasks are declared; the scheduler still runs for retry delays.
        periodic=False,
        initial_delay=0.1,
        max_delay=_MAX_POLL_DELAY,
    )


class _SqliteStorage(SqliteStorage):
    """huey's SQLite queue, synced as the database is (database.py): WAL, synchronous=NORMAL.

    huey leaves SQLite's default (FULL), which waits for the disk at every commit: each sign
    POST that queues her mail, and the job taking and finishing it, waited for it. NORMAL keeps
    the file whole and loses no job when a process dies; after a power cut the last jobs queued
    may be gone, as the rows that asked for them may be (their mail stays "queued", and
    `flask mail retry --all` sends it).
    """

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection


class _SqliteHuey(SqliteHuey):
    storage_class = _SqliteStorage


class TaskQueue:
    """One app's huey instance, and the consumer threads it runs inside this process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.kind, self.location = _backend(app)
        self.name = str(app.config["TASK_QUEUE_NAME"])
        if not self.name:
            raise ValueError("TASK_QUEUE_NAME cannot be empty.")
        self.immediate = bool(app.config["TASK_QUEUE_IMMEDIATE"])
        self.workers = int(app.config["TASK_WORKERS"])
        if self.workers < 0:
            raise ValueError("TASK_WORKERS cannot be negative.")
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._huey, self._runner = self._build()
        self._prepared = False
        self._consumer: Consumer | None = None
        self._leftovers_pid: int | None = None
        # Hueys inherited through fork(): never used again, and never closed either, since
        # SQLite forbids touching a connection opened before the fork.
        self._inherited: list[Huey] = []
        _queues.add(self)

    @property
    def embedded(self) -> bool:
        """Whether this app's own processes run the consumer (sqlite and memory queues)."""
        return self.kind != "redis" and not self.immediate and self.workers > 0

    @property
    def huey(self) -> Huey:
        """The huey instance of this process (rebuilt after a fork)."""
        with self._lock:
            self._adopt_fork()
            return self._huey

    @property
    def consuming(self) -> bool:
        """Whether consumer threads for this queue run inside this process."""
        with self._lock:
            self._adopt_fork()
            return self._consumer is not None

    def enqueue(self, registered: Job, args: list[Any], *, delay: float = 0.0) -> str:
        """Queue a registered job (to run `delay` s from now); start the in-process consumer
        if this queue has one."""
        with self._lock:
            self._adopt_fork()
            self._prepare()
            huey, runner = self._huey, self._runner
        task = runner.s(
            registered.name,
            args,
            retries=registered.retries,
            retry_delay=registered.retry_delay,
            delay=delay if delay > 0 else None,
        )
        # Outside the lock: in immediate mode the job runs right here, and may enqueue more.
        huey.enqueue(task)
        if self.embedded:
            self._start_consumer()
        return task.id

    def pick_up_leftovers(self) -> None:
        """Start the consumer at this process's first request if tasks wait in the file."""
        # Tasks queued before a restart would otherwise wait for the next enqueue, and the
        # user on the progress page would watch "queued" forever. Checking only at the first
        # request (not in create_app) keeps `flask db upgrade` and other commands consumer-free.
        if self._leftovers_pid == os.getpid():
            return
        try:
            with self._lock:
                self._adopt_fork()
                if self._leftovers_pid == self._pid:
                    return
                self._leftovers_pid = self._pid
                if not Path(self.location).exists():
                    return
                self._prepare()
                waiting = self._huey.pending_count() + self._huey.scheduled_count()
        except Exception:
            # A broken queue file must not break every page; the next enqueue will say more.
            logger.exception("Could not look for tasks left in %s.", self.location)
            return
        if waiting:
            logger.info("%d task(s) waiting from an earlier run; starting the consumer.", waiting)
            self._start_consumer()

    def consumer(self, workers: int | None = None, *, handle_signals: bool = True) -> Consumer:
        """Build a consumer for this queue (the worker command's and the embedded one's)."""
        if self.immediate:
            raise RuntimeError("TASK_QUEUE_IMMEDIATE is on: jobs run inside enqueue().")
        with self._lock:
            self._adopt_fork()
            self._prepare()
            return _new_consumer(self._huey, workers or max(self.workers, 1), handle_signals)

    def stop(self, timeout: float) -> None:
        """Stop the in-process consumer, waiting up to `timeout` s, and close connections."""
        with self._lock:
            if self._pid != os.getpid():
                return  # Nothing here is this process's to stop or close.
            consumer, self._consumer = self._consumer, None
            huey = self._huey
        if consumer is not None:
            consumer.shutdown_timeout = timeout
            consumer.stop(graceful=True)
        huey.storage.close()
        pool = getattr(huey.storage, "pool", None)
        if pool is not None:
            pool.disconnect()

    def describe(self) -> str:
        """Say where tasks wait, without credentials: for CLI output."""
        if self.kind == "redis":
            parts = urlsplit(self.location)
            if parts.scheme == "unix":
                return f"Redis {parts.path}"
            return f"Redis {parts.hostname}:{parts.port or 6379}{parts.path}"
        if self.kind == "sqlite":
            return f"SQLite {self.location}"
        return "memory"

    def _start_consumer(self) -> None:
        with self._lock:
            self._adopt_fork()
            if self._consumer is not None:
                return
            self._prepare()
            consumer = _new_consumer(self._huey, self.workers, handle_signals=False)
            consumer.start()
            self._consumer = consumer

    def _build(self) -> tuple[Huey, TaskWrapper]:
        # results=False: jobs report progress in their own rows, and unread results would pile
        # up in the file or in Redis forever.
        options: dict[str, Any] = {
            "name": self.name,
            "results": False,
            "immediate": self.immediate,
        }
        huey: Huey
        if self.kind == "memory":
            huey = MemoryHuey(**options)
        elif self.kind == "sqlite":
            # Tables are created at first use (_prepare): create_app does no I/O.
            huey = _SqliteHuey(filename=self.location, create_tables=False, **options)
        else:
            huey = RedisHuey(url=self.location, **options)
        app = self.app

        def run(name: str, args: list[Any], task: Task) -> None:
            _run_job(app, name, args, task)

        # One generic huey task per app, registered as "campaign.tasks.run" in every process.
        return huey, huey.task(context=True, name="run")(run)

    def _prepare(self) -> None:
        # Caller holds the lock.
        if self._prepared:
            return
        if self.kind == "sqlite" and not self.immediate:
            # Jobs name appeals and snapshots: the queue is private like the database.
            private_folder(Path(self.location).parent, tighten=False)
            private_file(self.location)
            self._huey.storage.initialize_schema()
        self._prepared = True

    def _adopt_fork(self) -> None:
        # Caller holds the lock. After fork() the consumer threads stayed in the parent and
        # the storage connection is the parent's: start afresh in this process.
        pid = os.getpid()
        if pid == self._pid:
            return
        self._inherited.append(self._huey)
        self._huey, self._runner = self._build()
        self._prepared = False
        self._consumer = None
        self._leftovers_pid = None
        self._pid = pid

    def _after_fork_in_child(self) -> None:
        # Another thread of the parent may have held the lock at the moment of the fork.
        self._lock = threading.Lock()


_queues: "weakref.WeakSet[TaskQueue]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for queue in list(_queues):
        queue._after_fork_in_child()


def _stop_all_at_exit() -> None:
    for queue in list(_queues):
        try:
            queue.stop(_EXIT_GRACE_SECONDS)
        except Exception:
            logger.exception("Could not stop the task queue %s.", queue.name)


os.register_at_fork(after_in_child=_after_fork_in_child)
# Daemon threads would be killed mid-job at exit; atexit runs while they still live.
atexit.register(_stop_all_at_exit)


def _backend(app: Flask) -> tuple[str, str]:
    value = str(app.config["TASK_QUEUE"]).strip()
    if value == "memory":
        return "memory", ""
    if value == "sqlite":
        return "sqlite", str(Path(app.instance_path) / "tasks.sqlite")
    if value.startswith("sqlite:///"):
        # A relative path is relative to instance/, like the rest of the instance's files.
        return "sqlite", str(Path(app.instance_path) / value.removeprefix("sqlite:///"))
    if value.startswith(("redis://", "rediss://", "unix://")):
        return "redis", value
    raise ValueError(
        f"TASK_QUEUE must be 'sqlite', 'sqlite:///path', 'memory' or a redis:// URL, not {value!r}."
    )


def _run_job(app: Flask, name: str, args: list[Any], task: Task) -> None:
    """Run one job inside the app's context; log a failure by name and ids, never by data."""
    registered = _jobs.get(name)
    if registered is None:
        # The worker runs other code than the web app, or the job's module is not imported
        # by create_app(): retrying would not help.
        logger.error("Task %s: no job named %r in this process; dropped.", task.id, name)
        raise CancelExecution(retry=False)
    started = time.monotonic()
    try:
        # A fresh app context per job: flask-sqlalchemy scopes its session to the context
        # and removes it at teardown, so no transaction or identity map outlives the job.
        with app.app_context():
            registered.func(*args)
    except Exception as error:
        left = task.retries
        # The error's kind and where it arose, not its message: a mail server's or a
        # database's words may quote an address.
        logger.error(
            "Job %s(%s) failed with %s (task %s); %s.\n%s",
            name,
            describe_args(args),
            type(error).__name__,
            task.id,
            f"{left} retr{'y' if left == 1 else 'ies'} left" if left else "not retried",
            "".join(traceback.format_tb(error.__traceback__)).rstrip(),
        )
        # CancelExecution makes huey count the retry as for any error, without logging a
        # second traceback under its own logger.
        raise CancelExecution(retry=bool(left)) from error
    logger.info(
        "Job %s(%s) done in %.1f s (task %s).",
        name,
        describe_args(args),
        time.monotonic() - started,
        task.id,
    )


def describe_args(args: list[Any]) -> str:
    """Name a job's arguments for a log line: ids as they are, anything else by its type."""
    # Ids are shown; anything else could be private (an e-mail, a name), so only its type.
    return ", ".join(
        repr(arg) if isinstance(arg, int) or arg is None else f"<{type(arg).__name__}>"
        for arg in args
    )
