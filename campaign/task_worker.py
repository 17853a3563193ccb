"""The `flask tasks worker` command: a process that runs queued jobs until it is stopped, and
tells each job it was running when SIGTERM stopped it (Job.on_interrupt)."""

import logging
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from huey.api import Task
from huey.signals import SIGNAL_INTERRUPTED

from campaign.tasks import describe_args, get_queue, registered_job, run_start_hooks

logger = logging.getLogger("campaign.tasks")

tasks_cli = AppGroup("tasks", help="The task queue.")


@tasks_cli.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker threads (default: TASK_WORKERS, at least 1).",
)
def worker_command(workers: int | None) -> None:
    """Run queued jobs until Ctrl-C (finishes running jobs) or SIGTERM."""
    queue = get_queue(current_app)
    if queue.immediate:
        raise click.UsageError("TASK_QUEUE_IMMEDIATE is on: jobs run inside enqueue().")
    if queue.kind == "memory":
        raise click.UsageError(
            'TASK_QUEUE is "memory", which lives inside one process; '
            'use "sqlite" or a redis:// URL.'
        )
    consumer = queue.consumer(workers)
    consumer.huey.signal(SIGNAL_INTERRUPTED)(_interrupted_in(current_app._get_current_object()))
    if not logging.getLogger().handlers:
        # This command is the process's entry point: show job and consumer logs.
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    click.echo(
        f"Running jobs from queue {queue.name!r} ({queue.describe()}) with "
        f"{consumer.workers} worker thread(s); Ctrl-C stops."
    )
    run_start_hooks(current_app._get_current_object())
    consumer.run()


def _interrupted_in(app: Flask) -> Callable[..., None]:
    """A huey signal handler: after the consumer stopped (SIGTERM), tell each job it was
    running that it was interrupted (Job.on_interrupt); its thread dies with the process."""

    def interrupted(_signal: str, task: Task, *_extra: Any) -> None:
        name, args = [*task.args, None, None][:2]
        registered = registered_job(name)
        if registered is None or registered.on_interrupt is None:
            logger.warning("Task %s (%s) interrupted by the worker's stop.", task.id, name)
            return
        try:
            with app.app_context():
                registered.on_interrupt(*args)
        except Exception as error:
            logger.error(
                "Job %s(%s): its interruption could not be recorded (%s).",
                name,
                describe_args(args),
                type(error).__name__,
            )
            return
        logger.warning("Job %s(%s) interrupted by the worker's stop.", name, describe_args(args))

    return interrupted
