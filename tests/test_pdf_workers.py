"""render_many takes its jobs as they are made, a few ahead of the workers (issue 22)."""

import os
import signal
import time

import pytest

from campaign import ROOT, pdf_workers
from campaign.pdf_workers import render_many
from tests.test_pdf import _job, text


@pytest.mark.parametrize("processes", [0, 2])
def test_jobs_are_made_only_a_few_ahead_of_those_rendered(processes):
    done: list[int] = []
    ahead: list[int] = []

    def jobs():
        for made in range(12):
            ahead.append(made - len(done))
            yield _job(f"job{made}")

    pdfs = render_many(
        jobs(),
        static_root=ROOT / "static",
        processes=processes,
        time_limit=120,
        on_done=done.append,
    )
    assert [text(pdf).split()[1] for pdf in pdfs] == [f"job{n}" for n in range(12)]
    # Made when a worker is free for it, not all at once (in this thread: one at a time).
    limit = pdf_workers.JOBS_AHEAD_PER_PROCESS * processes
    assert max(ahead) == max(limit - 1, 0)


class Unmade(Exception):
    pass


def test_a_job_that_cannot_be_made_ends_the_batch_and_the_next_batch_runs():
    def jobs():
        yield _job("first")
        yield _job("second")
        raise Unmade

    with pytest.raises(Unmade):
        render_many(jobs(), static_root=ROOT / "static", processes=2, time_limit=120)
    (pdf,) = render_many(
        iter([_job("after")]), static_root=ROOT / "static", processes=2, time_limit=120
    )
    assert text(pdf).split()[1] == "after"


def test_no_jobs_start_no_workers():
    pdf_workers.shutdown()
    assert render_many(iter(()), static_root=ROOT / "static", processes=2, time_limit=1) == []
    assert pdf_workers.pool_pids() == []


def test_a_worker_hands_memory_back_after_a_weasyprint_job_only(monkeypatch):
    trims = []
    monkeypatch.setattr(pdf_workers, "_hand_back_memory", lambda: trims.append(True))

    class Drawn:
        def draw(self) -> bytes:
            return b"%PDF-1.7 drawn"

    assert pdf_workers._render_in_worker(Drawn(), ROOT / "static") == b"%PDF-1.7 drawn"
    assert trims == []  # drawn blocks: small allocations, no trim
    assert text(pdf_workers._render_in_worker(_job("cover"), ROOT / "static")).split()[1] == "cover"
    assert trims == [True]


def test_no_workers_are_started_once_the_process_exits(monkeypatch):
    # (monkeypatch puts _closed back for the tests after this one.)
    monkeypatch.setattr(pdf_workers, "_closed", False)
    pdf_workers._close()  # what atexit calls
    assert pdf_workers.pool_pids() == []
    with pytest.raises(pdf_workers.WorkersStopped, match="exiting"):
        render_many(iter([_job("late")]), static_root=ROOT / "static", processes=2, time_limit=60)
    assert pdf_workers.pool_pids() == []


def test_the_exit_hook_stops_the_workers_where_no_thread_can_start(monkeypatch):
    # Python 3.12.0 and 3.12.1 refuse to start a thread in an exit hook: the pool is stopped
    # all the same, in the hook's own thread.
    render_many(iter([_job("warm")]), static_root=ROOT / "static", processes=2, time_limit=60)
    workers = pdf_workers.pool_pids()
    assert len(workers) == 2

    def refuse(_thread):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(pdf_workers.threading.Thread, "start", refuse)
    monkeypatch.setattr(pdf_workers, "_closed", False)
    pdf_workers._close()
    assert pdf_workers.pool_pids() == []
    for pid in workers:
        with pytest.raises(ProcessLookupError):  # gone, and reaped
            os.kill(pid, 0)


def test_a_worker_killed_mid_part_ends_the_batch_at_once_not_at_its_time_limit():
    render_many(iter([_job("warm")]), static_root=ROOT / "static", processes=2, time_limit=60)
    workers = pdf_workers.pool_pids()
    assert len(workers) == 2

    def jobs():
        # Seconds of layout each. The first jobs are made before the batch has the pool; the
        # next one is asked for once they are handed to it.
        for _ in range(pdf_workers.JOBS_AHEAD_PER_PROCESS * 2):
            yield _job("long", 3000)
        time.sleep(0.5)  # two of them taken by the workers by now
        for pid in workers:  # as the memory killer does
            os.kill(pid, signal.SIGKILL)

    # Without the watch, multiprocessing's pool never reports the parts lost with the workers:
    # the batch would wait out its time limit and end in RenderTimeout.
    with pytest.raises(pdf_workers.WorkersStopped):
        render_many(jobs(), static_root=ROOT / "static", processes=2, time_limit=120)
    (pdf,) = render_many(
        iter([_job("after")]), static_root=ROOT / "static", processes=2, time_limit=60
    )
    assert text(pdf).split()[1] == "after"
