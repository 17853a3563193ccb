"""A mailing's worker stopped by a deploy (SIGTERM to its process group) while a message is
out: the message is given back, and the run queued again sends it and the rest at once, with
no one waiting for the mailing to count as stalled."""

import signal
import time

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.submissions.mailings import enqueue_mailing, start_mailing
from campaign.submissions.models import Delivery, Mailing, MailingKind, MailingStatus
from tests.mailbox import mails
from tests.submissions.test_mailing_runs import _answered
from tests.workers import GRACE_SECONDS, Workers, real_queue, silent_mail_server, stop_group


@pytest.fixture
def queue_file(tmp_path):
    return tmp_path / "queue" / "tasks.sqlite"


@pytest.fixture
def app_config(app_config, queue_file):
    return {**app_config, **real_queue(queue_file)}


@pytest.fixture
def worker(database_url, queue_file, tmp_path):
    workers = Workers(database_url, queue_file, tmp_path / "dossiers", tmp_path)
    yield workers.start
    workers.kill_all()


def _deliveries(mailing_id: int) -> list[Delivery]:
    db.session.expire_all()
    return db.session.scalars(
        select(Delivery).where(Delivery.mailing_id == mailing_id).order_by(Delivery.id)
    ).all()


def _waited(condition, seconds: float = GRACE_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_sigterm_mid_mailing_gives_the_message_back_and_the_rest_goes_after_the_restart(
    owner_appeal, make_signature, make_submission, worker, tmp_path
):
    submission = _answered(owner_appeal, make_signature, make_submission, hearing=2)
    mailing, _new = start_mailing(
        submission, MailingKind.update, "key-worker-0000000", owner_appeal.memberships[0].user,
        subject="S", body="B",
    )  # fmt: skip
    mailing_id = mailing.id
    enqueue_mailing(mailing)
    with silent_mail_server() as hanging:
        process = worker(**hanging)
        assert _waited(lambda: any(d.claimed_at for d in _deliveries(mailing_id)))
        assert stop_group(process, signal.SIGTERM) is not None, "worker hung"
    out, waiting = _deliveries(mailing_id)
    assert (out.attempts, out.claimed_at, out.sent_at) == (1, None, None)  # given back
    assert waiting.attempts == 0

    outbox = tmp_path / "worker-outbox"
    second = worker(CAMPAIGN_MAIL_OUTBOX=str(outbox))

    def finished() -> bool:
        db.session.expire_all()
        return db.session.get(Mailing, mailing_id).status is not MailingStatus.sending

    assert _waited(finished), "the mailing was not sent on"
    mailing = db.session.get(Mailing, mailing_id)
    assert (mailing.status, mailing.sent, mailing.failed) == (MailingStatus.done, 2, 0)
    assert len({message["To"] for message in mails(outbox)}) == len(mails(outbox)) == 2
    assert stop_group(second, signal.SIGTERM) is not None
