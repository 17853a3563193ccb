"""Share a render's uncached blocks with task workers on other hosts (the queue on Redis).

Each block's job is pickled to a private file on the shared storage, under the block cache's
jobs/<render id>/ (a job holds names and drawings: it never goes into Redis). Redis holds only
block keys and the render id: a list of the keys still to do, a list of those done, and a key
saying the render is on, all expiring with the render's time limit. The render's own pool and
helper jobs (`dossiers.render_blocks`) on other workers pop keys from the list, so whoever is
fastest renders most; a helper puts each block it renders into the cache and says so. A block
a helper took and never finished (it died) is rendered by the render itself once the list is
empty: nothing waits on another host.
"""

import contextlib
import logging
import os
import pickle
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import current_app

from campaign import ROOT, tasks
from campaign.dossiers.block_cache import BlockCache, cache_folder
from campaign.dossiers.models import Edition
from campaign.pdf import RenderJob
from campaign.pdf_table_painter import TableJob
from campaign.pdf_workers import RenderTimeout, render_many
from campaign.private_files import private_folder, write_private

log = logging.getLogger(__name__)

HELPER_JOB = "dossiers.render_blocks"
# Beside the cached blocks: a withdrawal that empties the cache takes the jobs with it.
JOBS_FOLDER = "jobs"
# Redis keys outlive the render's time limit by this much, should its process die.
EXPIRY_MARGIN = 60
_RENDER_ID = re.compile(r"[0-9a-f]{16}")
_BLOCK_KEY = re.compile(r"[0-9a-f]{64}")
# Push onto the done list only while the render is on, with the render's expiry: a helper
# finishing late must not leave a key behind.
_PUSH_DONE = """
if redis.call('exists', KEYS[1]) == 1 then
    redis.call('rpush', KEYS[2], ARGV[1])
    redis.call('pexpire', KEYS[2], redis.call('pttl', KEYS[1]))
    return 1
end
return 0
"""


def enabled() -> bool:
    """Whether this app shares blocks: DOSSIER_SHARED_BLOCKS on, and the queue on Redis."""
    queue = tasks.get_queue(current_app)
    config = current_app.config
    return (
        queue.kind == "redis"
        and not queue.immediate
        and config["DOSSIER_SHARED_BLOCKS"] is True
        and int(config["DOSSIER_BLOCK_HELPERS"]) > 0
    )


class _Names:
    """The Redis keys of one render: the keys to do, those done, and whether it is on."""

    def __init__(self, render_id: str) -> None:
        prefix = f"{current_app.config['TASK_QUEUE_NAME']}:dossier-blocks:{render_id}"
        self.todo, self.done, self.live = f"{prefix}:todo", f"{prefix}:done", f"{prefix}:live"


def _connection() -> Any:
    # huey's own client: its connection pool, the queue's Redis.
    return tasks.get_queue(current_app).huey.storage.conn


def _pop(connection: Any, key: str, count: int) -> list[str]:
    popped = connection.lpop(key, count) or []
    return [value.decode() for value in popped if _BLOCK_KEY.fullmatch(value.decode())]


def _push_done(connection: Any, names: _Names, key: str) -> None:
    who = f"{socket.gethostname()}/{os.getpid()}"
    connection.eval(_PUSH_DONE, 2, names.live, names.done, f"{key} {who}")


def render_shared(
    jobs: Sequence[RenderJob | TableJob],
    keys: Sequence[str | None],
    cache: BlockCache,
    *,
    appeal_id: int,
    edition: Edition,
    static_root: Path,
    processes: int,
    time_limit: float,
    until: float,
    on_done: Callable[[int], None],
    keep: Callable[[int, bytes], Any],
) -> list[Any]:
    """Render jobs like pdf_workers.render_many, the blocks with a key shared with other workers.

    keep(index, pdf) is called for the blocks rendered here; a block a helper rendered is taken
    from the cache.
    """
    options: dict[str, Any] = {
        "static_root": static_root,
        "processes": processes,
        "time_limit": time_limit,
        "until": until,
    }
    by_key = {key: index for index, key in enumerate(keys) if key is not None}
    if len(by_key) < 2 or len(by_key) != sum(key is not None for key in keys):
        # Nothing to share (or one block twice, which this does not track): as before.
        return render_many(jobs, on_done=on_done, keep=keep, **options)
    results: list[Any] = [None] * len(jobs)

    def here(indices: list[int]) -> None:
        rendered = render_many(
            [jobs[index] for index in indices],
            on_done=lambda position: on_done(indices[position]),
            keep=lambda position, pdf: keep(indices[position], pdf),
            **options,
        )
        for index, value in zip(indices, rendered, strict=True):
            results[index] = value

    here([index for index, key in enumerate(keys) if key is None])
    render_id = secrets.token_hex(8)
    folder = cache.folder / JOBS_FOLDER / render_id
    _sweep(folder.parent, time_limit + EXPIRY_MARGIN)
    try:
        _write_jobs(folder, {key: jobs[index] for key, index in by_key.items()})
    except FileNotFoundError:
        # A withdrawal emptied the cache: this render is made again, here will do.
        shutil.rmtree(folder, ignore_errors=True)
        here(list(by_key.values()))
        return results
    names = _Names(render_id)
    connection = _connection()
    try:
        _offer(connection, names, list(by_key), until, appeal_id, edition, render_id)
        _coordinate(connection, names, jobs, by_key, cache, results, on_done, keep, options)
    finally:
        # The live key first: no helper can push once it is gone (_PUSH_DONE).
        connection.delete(names.live)
        connection.delete(names.todo, names.done)
        shutil.rmtree(folder, ignore_errors=True)
    return results


def _sweep(jobs: Path, age: float) -> None:
    """Remove the job files of renders older than age seconds (their process died)."""
    if not jobs.is_dir():
        return
    for folder in jobs.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if time.time() - folder.stat().st_mtime > age:
                shutil.rmtree(folder, ignore_errors=True)


def _write_jobs(folder: Path, jobs: dict[str, RenderJob | TableJob]) -> None:
    # mkdir without parents: a cache folder removed by a withdrawal must stay removed.
    (folder.parent).mkdir(mode=0o700, exist_ok=True)
    folder.mkdir(mode=0o700)
    private_folder(folder)
    for key, job in jobs.items():
        write_private(folder / f"{key}.job", pickle.dumps(job, pickle.HIGHEST_PROTOCOL))


def _offer(
    connection: Any,
    names: _Names,
    keys: list[str],
    until: float,
    appeal_id: int,
    edition: Edition,
    render_id: str,
) -> None:
    expiry = max(1, int(until - time.monotonic())) + EXPIRY_MARGIN
    with connection.pipeline() as pipe:
        pipe.set(names.live, "1", ex=expiry)
        pipe.rpush(names.todo, *keys)
        pipe.expire(names.todo, expiry)
        pipe.execute()
    helpers = min(int(current_app.config["DOSSIER_BLOCK_HELPERS"]), len(keys) - 1)
    for _helper in range(helpers):
        tasks.enqueue(HELPER_JOB, appeal_id, edition.value, render_id)


def _coordinate(
    connection: Any,
    names: _Names,
    jobs: Sequence[RenderJob | TableJob],
    by_key: dict[str, int],
    cache: BlockCache,
    results: list[Any],
    on_done: Callable[[int], None],
    keep: Callable[[int, bytes], Any],
    options: dict[str, Any],
) -> None:
    """Render what this process pops, take what helpers did, and at the end what they left."""
    finished: set[str] = set()
    batch_size = max(1, options["processes"])
    queue_empty = False

    def finish(key: str, value: Any) -> None:
        finished.add(key)
        results[by_key[key]] = value
        on_done(by_key[key])

    while len(finished) < len(by_key):
        if time.monotonic() >= options["until"]:
            raise RenderTimeout(f"{len(by_key) - len(finished)} blocks not rendered in time")
        for entry in connection.lpop(names.done, len(by_key)) or []:
            key = entry.decode().split(" ", 1)[0]
            if key in by_key and key not in finished:
                # Missing (a withdrawal emptied the cache): rendered here in the end.
                found = cache.get(key)
                if found is not None:
                    finish(key, found)
        batch = [] if queue_empty else _pop(connection, names.todo, batch_size)
        if not batch:
            # Taken by helpers and not done yet, or never to be done (a helper died): whoever
            # writes a block first has it done, and this process never waits on another host.
            queue_empty = True
            batch = [key for key in by_key if key not in finished][:batch_size]
        batch = [key for key in batch if key in by_key and key not in finished]
        if not batch:
            continue
        rendered = render_many(
            [jobs[by_key[key]] for key in batch],
            keep=lambda position, pdf, batch=batch: keep(by_key[batch[position]], pdf),
            **options,
        )
        for key, value in zip(batch, rendered, strict=True):
            if key not in finished:
                finish(key, value)


@tasks.job(HELPER_JOB)
def render_blocks(appeal_id: int, edition: str, render_id: str) -> None:
    """Render blocks another worker's render offers, into the shared cache, until none is left."""
    if not _RENDER_ID.fullmatch(render_id):
        return
    config = current_app.config
    names = _Names(render_id)
    connection = _connection()
    # Not entered: the folder is made by the render only (a withdrawal may have removed it).
    cache = BlockCache(cache_folder(appeal_id, Edition(edition)))
    folder = cache.folder / JOBS_FOLDER / render_id
    processes = int(config["DOSSIER_PROCESSES"])
    until = time.monotonic() + float(config["DOSSIER_TIME_LIMIT"])
    rendered = 0
    while connection.exists(names.live) and time.monotonic() < until:
        keys = _pop(connection, names.todo, max(1, processes))
        if not keys:
            break
        jobs = {}
        for key in keys:
            try:
                jobs[key] = pickle.loads((folder / f"{key}.job").read_bytes())  # noqa: S301
            except FileNotFoundError:
                continue  # the render is over, or a withdrawal emptied the cache
        order = list(jobs)

        def put(position: int, pdf: bytes, order: list[str] = order) -> None:
            nonlocal rendered
            if not connection.exists(names.live):
                # The render is over: were it over for a withdrawal, the render made again
                # may have made the cache anew, and this block may show her row.
                return
            cache.put(order[position], pdf)
            if order[position] in cache.used:
                rendered += 1
                _push_done(connection, names, order[position])

        render_many(
            list(jobs.values()),
            static_root=ROOT / "static",
            processes=processes,
            time_limit=float(config["DOSSIER_TIME_LIMIT"]),
            until=until,
            keep=put,
        )
    log.info("Rendered %d block(s) of render %s for another worker.", rendered, render_id)
