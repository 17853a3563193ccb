"""The task queue: jobs declared by name, run by huey off the request, inside the app."""

import json
import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app
from huey.api import Task
from huey.consumer import Consumer
from huey.exceptions import CancelExecution

from campaign.task_queue import TaskQueue

logger = logging.getLogger(__name__)

JobFunction = TypeVar("JobFunction", bound=Callable[..., None])


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


# Functions are code, shared by every app; huey instances are per app (see task_queue), each
# with one generic task, "campaign.tasks.run"(name, args), that looks the name up here. So
# domain modules declare jobs without this module importing them, and tests make many apps.
_jobs: dict[str, Job] = {}


# Run once by each process that starts consuming the queue (the worker command; a web process
# running its own consumer, at its first request): for what a killed process's jobs left.
_at_start: list[Callable[[], None]] = []


def at_consumer_start(func: Callable[[], None]) -> Callable[[], None]:
    """Declare a function run, in an app context, when a process starts consuming the queue:
    it queues again the work a killed process lost (its running jobs, which no queue keeps)."""
    _at_start.append(func)
    return func


def run_start_hooks(app: Flask) -> None:
    """Run the at_consumer_start functions; one failing is logged, and the others still run."""
    for hook in _at_start:
        try:
            with app.app_context():
                hook()
        except Exception as error:
            logger.error(
                "At the consumer's start, %s failed (%s).", _qualified(hook), type(error).__name__
            )


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
    return get_queue(current_app).enqueue(
        name,
        payload,
        retries=registered.retries,
        retry_delay=registered.retry_delay,
        delay=delay,
    )


def get_queue(app: Flask) -> TaskQueue:
    """Return the app's task queue (its huey instance is `.huey`)."""
    try:
        return app.extensions["tasks"]
    except KeyError:
        raise RuntimeError("tasks.init_app(app) has not been called for this app.") from None


def new_queue(app: Flask) -> TaskQueue:
    """A task queue as the app's config describes it, running this module's jobs."""
    return TaskQueue(app, _run_job)


def init_app(app: Flask) -> None:
    """Give the app its huey instance; no file or connection is opened until it is used."""
    queue = new_queue(app)
    app.extensions["tasks"] = queue
    if queue.embedded and queue.kind == "sqlite":
        app.before_request(_at_first_request(app, queue))


def _at_first_request(app: Flask, queue: TaskQueue) -> Callable[[], None]:
    started_in: set[int] = set()

    def before_request() -> None:
        queue.pick_up_leftovers()
        if os.getpid() not in started_in:  # this process's first request (or a fork's)
            started_in.add(os.getpid())
            run_start_hooks(app)

    return before_request


def stop(app: Flask, timeout: float = 10.0) -> None:
    """Stop the app's in-process consumer (waiting up to `timeout` s) and close connections."""
    get_queue(app).stop(timeout)


def create_consumer(
    app: Flask, workers: int | None = None, *, handle_signals: bool = True
) -> Consumer:
    """Build huey's consumer for the app's queue: `.run()` blocks, `.start()` runs threads."""
    return get_queue(app).consumer(workers, handle_signals=handle_signals)


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
