"""Blocks of a render shared with task workers on other hosts (the queue on Redis).

Skipped, with the reason, when Redis does not answer at TEST_REDIS_URL.
"""

import os
import re
import shutil
import stat
import sys
import time
from datetime import UTC, datetime

import pytest
import redis

from campaign import create_app, tasks
from campaign.dossiers import block_cache, rendering, shared_blocks, table_parts
from campaign.dossiers.block_cache import cache_folder
from campaign.dossiers.content import collect_content
from campaign.dossiers.models import Edition
from campaign.dossiers.page_jobs import Snapshot
from campaign.pdf import RenderJob
from tests import test_production
from tests.conftest import TEST_DATA_KEY
from tests.dossiers.pdftools import page_texts
from tests.test_production import REDIS_URL, needs_redis

# Real processes, stopped after the test: the fixture of the tests across processes.
processes = test_production.processes


@pytest.fixture
def app_config(tmp_path):
    return {
        "DOSSIER_FOLDER": str(tmp_path / "shared" / "dossiers"),
        "DOSSIER_PROCESSES": 1,
        "DOSSIER_TIME_LIMIT": 120,
        "PUBLIC_URL": "https://campaign.test",
        "TASK_QUEUE": REDIS_URL,
        "TASK_QUEUE_IMMEDIATE": False,
        "TASK_QUEUE_NAME": f"campaign-test-{os.getpid()}-{time.monotonic_ns()}",
        "DOSSIER_SIGNING_CERT": str(tmp_path / "no-certificate.p12"),
    }


@pytest.fixture
def store(app):
    """The test's Redis, emptied of the test queue's keys afterwards."""
    connection = redis.Redis.from_url(REDIS_URL)
    yield connection
    for key in connection.scan_iter(f"*{app.config['TASK_QUEUE_NAME']}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def signed(open_appeal, make_signature, monkeypatch):
    """Twelve signatories: a table block and an annex block to share."""
    for n in range(12):
        make_signature(open_appeal, surname=f"Подписантка{n}")
    monkeypatch.setattr(table_parts, "PAGES_PER_BLOCK", 1)
    return open_appeal


SNAPSHOT = Snapshot(
    id="SHAREDBLOCKS",
    made_at=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
    verify_url="https://campaign.test/verify/SHAREDBLOCKS",
    author="Организаторы",
)


def render(app, appeal, *, shared: bool) -> bytes:
    """Render from an empty cache, sharing blocks or not; return the PDF."""
    app.config["DOSSIER_SHARED_BLOCKS"] = shared
    folder = cache_folder(appeal.id)
    for path in sorted(folder.rglob("*"), reverse=True) if folder.exists() else []:
        path.rmdir() if path.is_dir() else path.unlink()
    content = collect_content(appeal, Edition.submission)
    with rendering.render_dossier(content, SNAPSHOT).file as merged:
        return merged.read()


def same_file(pdf: bytes) -> bytes:
    """The PDF without what differs between two renders of one snapshot: the attachment's
    timestamps (to the second) and the file identifier made from them."""
    pdf = re.sub(rb"\(D:\d{14}Z\)", b"(D:)", pdf)
    return re.sub(rb"/ID \[ \([0-9a-f]{32}\) \([0-9a-f]{32}\) \]", b"/ID", pdf)


def leftovers(app, connection) -> tuple[list[bytes], list[str]]:
    """The render's Redis keys and job files still there."""
    keys = list(connection.scan_iter(f"{app.config['TASK_QUEUE_NAME']}:dossier-blocks:*"))
    jobs = cache_folder(0).parent.rglob("*.job")
    return keys, [path.name for path in jobs]


@needs_redis
def test_a_worker_of_another_process_renders_blocks_and_the_pdf_is_the_same(
    app, signed, store, processes, tmp_path, database_url, monkeypatch
):
    local = render(app, signed, shared=False)
    env = {
        "FLASK_APP": "campaign",
        "CAMPAIGN_SECRET_KEY": "test-secret",
        "CAMPAIGN_DATA_KEYS": TEST_DATA_KEY,
        "CAMPAIGN_SQLALCHEMY_DATABASE_URI": database_url,
        "CAMPAIGN_DOSSIER_FOLDER": app.config["DOSSIER_FOLDER"],
        "CAMPAIGN_TASK_QUEUE": REDIS_URL,
        "CAMPAIGN_TASK_QUEUE_NAME": app.config["TASK_QUEUE_NAME"],
        "CAMPAIGN_DOSSIER_PROCESSES": "1",
    }
    worker = processes([sys.executable, "-m", "flask", "tasks", "worker"], env, "worker")
    done, here = [], []
    real = shared_blocks.render_many

    def after_the_helper(parts, **options):
        here.extend(parts)
        # This process waits before its first block until the other one has done one.
        pattern = f"{app.config['TASK_QUEUE_NAME']}:dossier-blocks:*:done"
        if parts and not done:
            deadline = time.monotonic() + 120
            while not (names := list(store.scan_iter(pattern))) and time.monotonic() < deadline:
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                time.sleep(0.2)
            done.extend(entry.decode() for entry in store.lrange(names[0], 0, -1))
        return real(parts, **options)

    monkeypatch.setattr(shared_blocks, "render_many", after_the_helper)
    shared = render(app, signed, shared=True)
    # Of the two blocks, the other process did one, and this one took it from the cache.
    [entry] = done
    key, who = entry.split(" ")
    assert who.endswith(f"/{worker.pid}")
    assert len(key) == 64
    assert len(here) == 1
    assert same_file(shared) == same_file(local)
    assert leftovers(app, store) == ([], [])


@needs_redis
def test_a_helper_that_dies_with_a_block_does_not_stall_the_render(app, signed, store, monkeypatch):
    local = render(app, signed, shared=False)
    seen = {}

    def dying_helper(name, appeal_id, edition, render_id):
        # A helper takes a block and dies: it never says the block is done.
        assert name == shared_blocks.HELPER_JOB
        prefix = f"{app.config['TASK_QUEUE_NAME']}:dossier-blocks:{render_id}"
        seen["taken"] = store.lpop(f"{prefix}:todo").decode()
        seen["redis"] = b" ".join(
            value
            for key in store.scan_iter(f"*{app.config['TASK_QUEUE_NAME']}*")
            for value in (
                store.lrange(key, 0, -1) if store.type(key) == b"list" else [store.get(key)]
            )
        )
        folder = cache_folder(appeal_id, Edition(edition)) / "jobs" / render_id
        seen["files"] = {path.stem: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}
        return "never-run"

    monkeypatch.setattr(tasks, "enqueue", dying_helper)
    started = time.monotonic()
    shared = render(app, signed, shared=True)
    assert time.monotonic() - started < 60
    assert same_file(shared) == same_file(local)
    # Every block's job was a private file; Redis held only the keys, never a name.
    assert seen["taken"] in seen["files"]
    assert set(seen["files"].values()) == {0o600}
    assert len(seen["files"]) >= 2
    assert "Подписантка" not in seen["redis"].decode(errors="replace")
    assert "Подписантка" in " ".join(page_texts(shared))
    assert leftovers(app, store) == ([], [])


@pytest.mark.parametrize(
    ("queue", "immediate", "setting", "shared"),
    [
        (REDIS_URL, False, True, True),
        (REDIS_URL, False, False, False),
        (REDIS_URL, True, True, False),
        ("sqlite", False, True, False),
        ("sqlite", False, False, False),
    ],
)
def test_blocks_are_shared_only_with_the_queue_on_redis(
    tmp_path, queue, immediate, setting, shared
):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "test-secret",
            "DATA_KEYS": TEST_DATA_KEY,
            "TASK_QUEUE": queue,
            "TASK_QUEUE_IMMEDIATE": immediate,
            "DOSSIER_SHARED_BLOCKS": setting,
            "DOSSIER_FOLDER": str(tmp_path / "dossiers"),
        }
    )
    with app.app_context():
        assert shared_blocks.enabled() is shared


def test_with_the_sqlite_queue_a_render_never_shares(app, signed, monkeypatch):
    app.config["TASK_QUEUE"] = "sqlite"
    monkeypatch.setitem(app.extensions, "tasks", tasks.new_queue(app))

    def refused(*_args, **_options):
        raise AssertionError("blocks shared with the SQLite queue")

    monkeypatch.setattr(shared_blocks, "render_shared", refused)
    pdf = render(app, signed, shared=True)
    assert "Подписантка11" in " ".join(page_texts(pdf))
    assert not (cache_folder(signed.id, Edition.submission) / "jobs").exists()


def offer(app, store, folder, jobs, *, live=True):
    """Offer jobs as a render would: their files, their keys in Redis; return the render id."""
    render_id = "0123456789abcdef"
    names = shared_blocks._Names(render_id)
    shared_blocks._write_jobs(folder / "jobs" / render_id, jobs)
    store.rpush(names.todo, *jobs)
    if live:
        store.set(names.live, "1", ex=60)
    return render_id, names


@needs_redis
def test_a_helper_puts_blocks_into_the_cache_and_says_which(app, store, tmp_path):
    folder = cache_folder(7, Edition.public)
    folder.mkdir(parents=True)
    jobs = {f"{n}" * 64: RenderJob(html=f"<p>Блок {n}</p>") for n in (1, 2)}
    render_id, names = offer(app, store, folder, jobs)
    shared_blocks.render_blocks(7, "public", render_id)
    for key in jobs:
        assert "Блок" in " ".join(page_texts((folder / f"{key}.pdf").read_bytes()))
    done = [entry.decode().split(" ") for entry in store.lrange(names.done, 0, -1)]
    assert sorted(key for key, _who in done) == sorted(jobs)
    assert {who.split("/")[1] for _key, who in done} == {str(os.getpid())}
    assert 0 < store.pttl(names.done) <= 60_000
    assert store.exists(names.todo) == 0


@needs_redis
def test_a_helper_leaves_a_render_that_is_over_or_a_cache_that_was_emptied(app, store, monkeypatch):
    folder = cache_folder(7, Edition.public)
    folder.mkdir(parents=True)
    key = "a" * 64
    render_id, names = offer(app, store, folder, {key: RenderJob(html="<p>Блок</p>")}, live=False)
    shared_blocks.render_blocks(7, "public", render_id)
    # The render is over: the key is not even taken, nothing is written or pushed.
    assert store.lrange(names.todo, 0, -1) == [key.encode()]
    assert not (folder / f"{key}.pdf").exists()
    store.set(names.live, "1", ex=60)
    real = block_cache.write_atomically

    def emptied_first(path, data):
        # A withdrawal empties the cache while the block is rendered.
        shutil.rmtree(folder)
        real(path, data)

    monkeypatch.setattr(block_cache, "write_atomically", emptied_first)
    shared_blocks.render_blocks(7, "public", render_id)
    assert not folder.exists()
    assert store.exists(names.done, names.todo) == 0


@needs_redis
def test_a_block_finished_after_the_render_ended_is_not_kept(app, store, monkeypatch):
    # The render ended (a withdrawal may have made it start again, its cache anew) while this
    # helper drew a block: the block, which may show her row, is not written.
    folder = cache_folder(7, Edition.public)
    folder.mkdir(parents=True)
    key = "b" * 64
    render_id, names = offer(app, store, folder, {key: RenderJob(html="<p>Блок</p>")})

    def ended_meanwhile(jobs, *, keep, **_options):
        store.delete(names.live)
        return [keep(0, b"%PDF-1.7 drawn")]

    monkeypatch.setattr(shared_blocks, "render_many", ended_meanwhile)
    shared_blocks.render_blocks(7, "public", render_id)
    assert not (folder / f"{key}.pdf").exists()
    assert store.exists(names.done) == 0


def test_job_files_of_renders_that_died_are_swept(tmp_path):
    old, fresh = tmp_path / "jobs" / "old", tmp_path / "jobs" / "fresh"
    for folder in (old, fresh):
        folder.mkdir(parents=True)
        (folder / "block.job").write_bytes(b"job")
    os.utime(old, (time.time() - 700, time.time() - 700))
    shared_blocks._sweep(tmp_path / "jobs", 660)
    assert not old.exists()
    assert (fresh / "block.job").exists()
