"""The task queue's machinery: one huey instance per app, and its in-process consumer threads.

campaign.tasks declares the jobs and queues them; this module runs huey for it.
"""

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Task, TaskWrapper
from huey.consumer import Consumer
from huey.storage import SqliteStorage

from campaign.private_files import private_file, private_folder

# The queue's log lines keep the name they had when this code lived in campaign.tasks.
logger = logging.getLogger("campaign.tasks")

# huey names a task after its function's module: the one generic task is "campaign.tasks.run"
# in every process, as tasks already waiting in SQLite or Redis are named.
_TASK_MODULE = "campaign.tasks"

# Idle in-process consumers poll SQLite at most this often (seconds): the user is watching a
# progress page, and one indexed SELECT a second is cheap. huey's default is 10 s.
_MAX_POLL_DELAY = 1.0
# At interpreter exit (Ctrl-C on `flask run`, a reload) a running job gets this long to
# finish: a job killed mid-run has already left the queue and would be lost.
_EXIT_GRACE_SECONDS = 30.0

# Runs one job, by name and arguments, inside the app (campaign.tasks._run_job).
JobRunner = Callable[[Flask, str, list[Any], Task], None]


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

    def __init__(self, app: Flask, run_job: JobRunner) -> None:
        self.app = app
        self._run_job = run_job
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

    def enqueue(
        self,
        name: str,
        args: list[Any],
        *,
        retries: int,
        retry_delay: float,
        delay: float = 0.0,
    ) -> str:
        """Queue a registered job (to run `delay` s from now); start the in-process consumer
        if this queue has one."""
        with self._lock:
            self._adopt_fork()
            self._prepare()
            huey, runner = self._huey, self._runner
        task = runner.s(
            name,
            args,
            retries=retries,
            retry_delay=retry_delay,
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
        app, run_job = self.app, self._run_job

        def run(name: str, args: list[Any], task: Task) -> None:
            run_job(app, name, args, task)

        # One generic huey task per app, with the same name in every process (_TASK_MODULE).
        run.__module__ = _TASK_MODULE
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
