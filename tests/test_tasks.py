"""The task queue: immediate, in-process (memory, sqlite) and Redis-backed, and its CLI."""

import logging
import os
import select
import socket
import threading
import uuid
import warnings

import pytest
from flask import current_app
from sqlalchemy import text

from campaign import create_app, tasks
from campaign.accounts.models import User
from campaign.extensions import db

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


class Probe:
    """What the test jobs saw, in order, for the test thread to wait on."""

    def __init__(self):
        self.runs = []
        self.changed = threading.Condition()
        self.gate = threading.Event()

    def reset(self):
        with self.changed:
            self.runs = []
        self.gate.clear()

    def record(self, **run):
        run.setdefault("marker", current_app.config.get("PROBE_MARKER"))
        run.setdefault("thread", threading.current_thread().name)
        with self.changed:
            self.runs.append(run)
            self.changed.notify_all()

    def wait_for(self, count, timeout=5.0):
        with self.changed:
            reached = self.changed.wait_for(lambda: len(self.runs) >= count, timeout)
            assert reached, f"{len(self.runs)} of {count} job runs after {timeout} s: {self.runs}"
            return list(self.runs)


probe = Probe()


@tasks.job("tests.probe")
def probe_job(n):
    # Opening a transaction lets the test check that the session is removed afterwards.
    db.session.execute(text("SELECT 1"))
    probe.record(n=n, session=db.session())


@tasks.job("tests.user_email")
def user_email_job(user_id):
    probe.record(email=db.session.get(User, user_id).email)


@tasks.job("tests.gate")
def gate_job(n):
    probe.gate.wait(5)
    probe.record(n=n)


@tasks.job("tests.fail")
def fail_job(n, contact):
    probe.record(n=n, failed=True)
    raise RuntimeError(f"cannot deliver to {contact}")  # as a mail server would say


@tasks.job("tests.flaky", retries=1)
def flaky_job(n):
    attempt = sum(1 for run in probe.runs if run.get("flaky")) + 1
    probe.record(n=n, flaky=True, attempt=attempt)
    if attempt == 1:
        raise RuntimeError("first attempt fails")


@pytest.fixture(autouse=True)
def queue_lifecycle(app):
    probe.reset()
    yield
    tasks.stop(app)


@pytest.fixture
def app_config():
    # The suite runs jobs inside enqueue() (tests/conftest.py); these tests want a real queue.
    return {"TASK_QUEUE": "memory", "TASK_QUEUE_IMMEDIATE": False, "PROBE_MARKER": "memory"}


def _other_app(app, **overrides):
    """A second app on the same database and queue, as after a restart or in a worker."""
    keys = ("TESTING", "SECRET_KEY", "DATA_KEYS", "SQLALCHEMY_DATABASE_URI", "SERVER_NAME")
    keys += ("TASK_QUEUE",)
    keys += ("TASK_QUEUE_NAME", "TASK_WORKERS", "MAIL_OUTBOX")
    return create_app({**{key: app.config[key] for key in keys}, **overrides})


def _dispose(other):
    tasks.stop(other)
    with other.app_context():
        db.engine.dispose()


def _consumer_threads():
    return [t for t in threading.enumerate() if t.name.startswith("tasks-") and t.is_alive()]


class TestImmediate:
    @pytest.fixture
    def app_config(self):
        return {"TASK_QUEUE": "memory", "TASK_QUEUE_IMMEDIATE": True, "PROBE_MARKER": "now"}

    def test_job_runs_inside_enqueue_and_reads_the_database(self, app, make_user):
        user = make_user(email="reader@example.org")
        tasks.enqueue("tests.user_email", user.id)
        assert probe.runs == [
            {"email": "reader@example.org", "marker": "now", "thread": "MainThread"}
        ]
        assert not tasks.get_queue(app).consuming

    def test_session_is_the_jobs_own_and_removed_afterwards(self, app):
        tasks.enqueue("tests.probe", 1)
        [run] = probe.runs
        assert run["session"] is not db.session()
        assert not run["session"].in_transaction()

    def test_arguments_arrive_as_json(self, app):
        tasks.enqueue("tests.probe", (1, 2))
        assert probe.runs[0]["n"] == [1, 2]

    def test_orm_objects_are_refused(self, app, make_user):
        with pytest.raises(TypeError, match="plain JSON values"):
            tasks.enqueue("tests.user_email", make_user())
        assert probe.runs == []

    def test_unknown_job_name_is_a_clear_error(self, app):
        with pytest.raises(tasks.UnknownJob, match=r"'tests\.no_such_job'.*tests\.probe"):
            tasks.enqueue("tests.no_such_job", 1)

    def test_a_name_cannot_be_taken_twice(self):
        with pytest.raises(ValueError, match=r"already used by tests\.test_tasks\.probe_job"):
            tasks.job("tests.probe")(lambda n: None)


class TestMemory:
    def test_enqueue_returns_before_the_job_runs_in_another_thread(self, app):
        tasks.enqueue("tests.gate", 1)
        # The job waits for the gate: had it run inside enqueue, it would have recorded by now.
        assert probe.runs == []
        probe.gate.set()
        [run] = probe.wait_for(1)
        assert run["marker"] == "memory"
        assert run["thread"].startswith("tasks-Worker")
        assert tasks.get_queue(app).consuming

    def test_failure_is_logged_by_name_and_ids_and_the_consumer_goes_on(self, app, caplog):
        caplog.set_level(logging.INFO)
        tasks.enqueue("tests.fail", 41, "private.person@example.org")
        tasks.enqueue("tests.probe", 2)
        probe.wait_for(2)
        # A retry would have been queued before this one, so it would run first.
        tasks.enqueue("tests.probe", 3)
        runs = probe.wait_for(3)
        assert [run["n"] for run in runs] == [41, 2, 3]
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert [r.name for r in errors] == ["campaign.tasks"]
        message = errors[0].getMessage()
        assert "tests.fail(41, <str>) failed with RuntimeError" in message
        assert "not retried" in message
        assert "in fail_job" in message  # where it arose
        assert "private.person" not in caplog.text

    def test_retries_are_set_per_job(self, app, caplog):
        tasks.enqueue("tests.flaky", 5)
        runs = probe.wait_for(2)
        assert [run["attempt"] for run in runs] == [1, 2]
        assert "1 retry left" in caplog.text

    def test_stop_ends_the_consumer_threads(self, app):
        tasks.enqueue("tests.probe", 1)
        probe.wait_for(1)
        assert _consumer_threads()
        tasks.stop(app)
        assert not tasks.get_queue(app).consuming
        assert _consumer_threads() == []

    def test_each_app_has_its_own_huey(self, app):
        other = _other_app(app)
        try:
            assert tasks.get_queue(other).huey is not tasks.get_queue(app).huey
        finally:
            _dispose(other)

    def test_a_forked_process_starts_its_own_consumer(self, app):
        tasks.enqueue("tests.probe", 1)
        probe.wait_for(1)
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() with threads running, which is the point here.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            status = 1
            try:
                probe.reset()
                tasks.enqueue("tests.gate", 2)
                probe.gate.set()
                [run] = probe.wait_for(1)
                os.write(write_end, f"{run['n']} {run['thread']}".encode())
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        try:
            ready, _, _ = select.select([read_end], [], [], 10)
            reply = os.read(read_end, 100).decode() if ready else ""
        finally:
            os.close(read_end)
            if not ready:
                os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
        assert reply.startswith("2 tasks-Worker"), reply
        assert os.waitstatus_to_exitcode(status) == 0
        assert [run["n"] for run in probe.runs] == [1]


def test_a_job_queued_for_later_waits_in_the_schedule(app):
    tasks.enqueue_later(60, "tests.probe", 8)
    huey = tasks.get_queue(app).huey
    assert huey.scheduled_count() == 1 and huey.pending_count() == 0
    [task] = huey.scheduled()
    assert task.args[:2] == ("tests.probe", [8])
    # The name tasks already waiting in SQLite or Redis carry, whatever module builds it.
    assert f"{type(task).__module__}.{type(task).__name__}" == "campaign.tasks.run"


class TestSqlite:
    @pytest.fixture
    def app_config(self, tmp_path):
        queue = f"sqlite:///{tmp_path / 'queue' / 'tasks.sqlite'}"
        return {"TASK_QUEUE": queue, "TASK_QUEUE_IMMEDIATE": False}

    def test_no_file_until_the_queue_is_used(self, app, tmp_path):
        assert not (tmp_path / "queue").exists()

    def test_in_process_consumer_runs_the_job(self, app, tmp_path):
        tasks.enqueue("tests.probe", 7)
        [run] = probe.wait_for(1)
        assert run["n"] == 7
        assert run["thread"].startswith("tasks-Worker")
        assert (tmp_path / "queue" / "tasks.sqlite").exists()

    def test_the_queue_file_is_synced_like_the_database(self, app):
        # WAL and synchronous=NORMAL: a commit does not wait for the disk (FULL, SQLite's
        # default, made every queued mail wait for it).
        tasks.enqueue("tests.probe", 9)
        probe.wait_for(1)
        connection = tasks.get_queue(app).huey.storage.conn
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL

    def test_a_process_runs_the_start_hooks_at_its_first_request_only(self, app, monkeypatch):
        runs = []
        monkeypatch.setattr(tasks, "_at_start", [lambda: runs.append(1)])
        web = _other_app(app, TASK_WORKERS=1)
        try:
            client = web.test_client()
            client.get("/no-such-page")
            client.get("/no-such-page")
            assert runs == [1]
        finally:
            _dispose(web)

    def test_the_worker_runs_the_start_hooks_before_it_consumes(self, app, runner, monkeypatch):
        from huey.consumer import Consumer

        order = []
        monkeypatch.setattr(tasks, "_at_start", [lambda: order.append("hook")])
        monkeypatch.setattr(Consumer, "run", lambda self: order.append("run"))
        result = runner.invoke(args=["tasks", "worker", "--workers", "1"])
        assert result.exit_code == 0, result.output
        assert order == ["hook", "run"]

    def test_tasks_left_from_a_previous_run_start_at_the_first_request(self, app):
        # The first app runs no consumer, as if it had been stopped right after enqueueing.
        before = _other_app(app, TASK_WORKERS=0, PROBE_MARKER="before")
        try:
            with before.app_context():
                tasks.enqueue("tests.probe", 8)
            assert not tasks.get_queue(before).consuming
        finally:
            _dispose(before)
        after = _other_app(app, TASK_WORKERS=1, PROBE_MARKER="after")
        try:
            queue = tasks.get_queue(after)
            assert queue.huey.pending_count() == 1
            assert not queue.consuming
            after.test_client().get("/no-such-page")
            [run] = probe.wait_for(1)
            assert (run["n"], run["marker"]) == (8, "after")
            assert queue.consuming
        finally:
            _dispose(after)


@pytest.mark.skipif(not _redis_answers(), reason="no Redis server answers on 127.0.0.1:6379")
class TestRedis:
    @pytest.fixture
    def app_config(self):
        name = f"campaign_test_{uuid.uuid4().hex}"
        return {
            "TASK_QUEUE": REDIS_URL,
            "TASK_QUEUE_NAME": name,
            "TASK_QUEUE_IMMEDIATE": False,
            "PROBE_MARKER": "web",
        }

    def test_worker_of_another_app_runs_the_job(self, app):
        import redis

        queue = tasks.get_queue(app)
        worker_app = _other_app(app, PROBE_MARKER="worker")
        consumer = tasks.create_consumer(worker_app, handle_signals=False)
        thread = threading.Thread(target=consumer.run, daemon=True)
        try:
            tasks.enqueue("tests.probe", 9)
            assert not queue.consuming
            assert queue.huey.pending_count() == 1
            thread.start()
            [run] = probe.wait_for(1)
            assert (run["n"], run["marker"]) == (9, "worker")
        finally:
            consumer.stop(graceful=True)
            thread.join(5)
            queue.huey.flush()
            _dispose(worker_app)
        assert not thread.is_alive()
        client = redis.Redis.from_url(REDIS_URL)
        try:
            assert client.keys(f"*{queue.name}*") == []
        finally:
            client.close()


class TestCommand:
    def test_worker_help(self, runner):
        result = runner.invoke(args=["tasks", "worker", "--help"])
        assert result.exit_code == 0, result.output
        assert "--workers" in result.output

    def test_worker_refuses_a_queue_that_lives_in_one_process(self, runner):
        result = runner.invoke(args=["tasks", "worker"])
        assert result.exit_code == 2
        assert 'TASK_QUEUE is "memory"' in result.output


def test_a_failing_start_hook_is_logged_and_the_others_run(app, monkeypatch, caplog):
    runs = []

    def broken():
        raise OSError("disk")

    monkeypatch.setattr(tasks, "_at_start", [broken, lambda: runs.append(1)])
    with caplog.at_level(logging.ERROR):
        tasks.run_start_hooks(app)
    assert runs == [1]
    assert "failed (OSError)" in caplog.text
