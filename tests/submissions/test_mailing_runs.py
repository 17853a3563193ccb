"""A mailing whose worker stopped: queued again by the stopping worker or sent on from its page,
never twice to one signer, and "Record as sent" kept closed until the notice has gone out."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaign import tasks
from campaign.audit.models import AuditEvent
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.submissions import mailings
from campaign.submissions.mailings import (
    STALLED_AFTER,
    MailingIncomplete,
    resume_mailing,
    send_mailing,
    start_mailing,
)
from campaign.submissions.models import AnswerKind, Delivery, Mailing, MailingKind, MailingStatus
from campaign.submissions.operations import AnswerData, record_answer
from tests.mailbox import mails
from tests.submissions.conftest import days_ago, fail_every_try
from tests.submissions.test_desk import _form


def _mailing(submission, kind=MailingKind.update, key="key-runs-000000000"):
    """A mailing made and committed but not run: its job was taken by a worker that died."""
    mailing, _new = start_mailing(
        submission, kind, key, submission.appeal.memberships[0].user, subject="S", body="B"
    )
    return mailing


def _answered(appeal, make_signature, make_submission, hearing=1):
    for _signer in range(hearing):
        make_signature(appeal, hear_of_answer=True)
    submission = make_submission(appeal, registered_on=days_ago(appeal, 5))
    record_answer(
        submission, AnswerData(AnswerKind.answered, days_ago(appeal, 1)), appeal.memberships[0].user
    )
    db.session.commit()
    return submission


def _stall(mailing):
    mailing.created_at = utcnow() - STALLED_AFTER - timedelta(minutes=1)
    db.session.commit()


def _dated_today(client, url, submission, notice_days):
    """The submission's form sent with today as the date it was sent."""
    today = days_ago(submission.appeal, 0).isoformat()
    return client.post(
        url,
        data=_form(submission.snapshot_id, sent_on=today, received_on="", notice_days=notice_days),
    )


def test_record_as_sent_waits_for_the_notice_to_go_out(
    client, owner_appeal, make_signature, make_submission, outbox
):
    make_signature(owner_appeal)
    make_signature(owner_appeal)
    submission = make_submission(owner_appeal, sent_on=None, received_on=None, notice_days=1)
    notice = _mailing(submission, MailingKind.notice)
    submission.notice_sent_at = utcnow() - timedelta(days=2)  # the period is over...
    db.session.commit()
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}"
    page = client.get(url).get_data(as_text=True)
    # ...but no signer has been told yet: the desk does not offer it, and refuses it.
    assert "still being sent" in page and "Record as sent today" not in page
    assert f"/mailings/{notice.id}" in page
    refused = client.post(f"{url}/sent", follow_redirects=True).get_data(as_text=True)
    assert "The notice is still being sent to the signers" in refused
    dated = _dated_today(client, url, submission, notice_days="1")
    assert dated.status_code == 400
    assert "Leave this empty until the signers were told" in dated.get_data(as_text=True)
    db.session.refresh(submission)
    assert submission.sent_on is None
    # Nor when the period is set to none meanwhile: the notice that went out is still going.
    submission.notice_days = 0
    db.session.commit()
    assert "Record as sent today" not in client.get(url).get_data(as_text=True)
    client.post(f"{url}/sent")
    assert _dated_today(client, url, submission, notice_days="0").status_code == 400
    db.session.refresh(submission)
    assert submission.sent_on is None
    send_mailing(notice.id)
    assert len(mails(outbox)) == 2
    assert "Record as sent today" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/sent")
    db.session.refresh(submission)
    assert submission.sent_on == days_ago(owner_appeal, 0)


def test_the_notice_is_refused_in_russian_while_it_goes(
    client, owner_appeal, make_signature, make_submission
):
    make_signature(owner_appeal)
    submission = make_submission(owner_appeal, sent_on=None, received_on=None, notice_days=1)
    _mailing(submission, MailingKind.notice)
    submission.notice_sent_at = utcnow() - timedelta(days=2)
    db.session.commit()
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}"
    ru = {"Accept-Language": "ru"}
    assert "ещё рассылается" in client.get(url, headers=ru).get_data(as_text=True)
    refused = client.post(f"{url}/sent", headers=ru, follow_redirects=True)
    assert "Уведомление подписавшим ещё рассылается: подождите" in refused.get_data(as_text=True)


def test_a_stopped_worker_queues_its_mailing_again(
    app, owner_appeal, make_signature, make_submission, outbox
):
    submission = _answered(owner_appeal, make_signature, make_submission)
    mailing = _mailing(submission)
    registered = tasks.registered_job("submissions.send_mailing")
    assert registered.on_interrupt is resume_mailing
    huey = tasks.get_queue(app).huey
    before = len(huey.scheduled())
    resume_mailing(mailing.id)  # as the worker's stop calls it, in an app context
    (task,) = huey.scheduled()[before:]
    assert task.args[:2] == ("submissions.send_mailing", [mailing.id])
    assert mails(outbox) == []


def test_a_worker_stopped_mid_send_gives_its_message_back_to_the_run_queued_again(
    app, owner_appeal, make_signature, make_submission, outbox, monkeypatch
):
    # A deploy's SIGTERM while a message is out: the run queued again sends it at once, not
    # after STALLED_AFTER (its retries would be spent by then, and the mailing left stalled).
    submission = _answered(owner_appeal, make_signature, make_submission, hearing=2)
    mailing = _mailing(submission)
    huey = tasks.get_queue(app).huey
    before = len(huey.scheduled())

    def stopped(*args, **kwargs):
        resume_mailing(mailing.id)  # as the stopping worker calls it; the send never ends
        raise KeyboardInterrupt

    monkeypatch.setattr(mailings, "send_mail", stopped)
    with pytest.raises(KeyboardInterrupt):
        send_mailing(mailing.id)
    (task,) = huey.scheduled()[before:]
    assert task.args[:2] == ("submissions.send_mailing", [mailing.id])
    db.session.rollback()
    tried = db.session.scalars(select(Delivery).where(Delivery.attempts == 1)).one()
    assert tried.claimed_at is None and tried.sent_at is None

    monkeypatch.undo()
    send_mailing(mailing.id)  # the run queued again, ten seconds on
    assert len(mails(outbox)) == 2
    db.session.refresh(mailing)
    assert (mailing.status, mailing.sent, mailing.failed) == (MailingStatus.done, 2, 0)
    assert mailings._in_flight == {}


def test_a_stalled_mailing_is_sent_on_from_its_page(
    client, owner_appeal, make_signature, make_submission, outbox
):
    submission = _answered(owner_appeal, make_signature, make_submission, hearing=3)
    mailing = _mailing(submission)
    url = f"/appeals/{owner_appeal.id}/mailings/{mailing.id}"
    page = client.get(url).get_data(as_text=True)
    assert "this page refreshes itself" in page and "Send the rest" not in page
    refused = client.post(f"{url}/resume", follow_redirects=True).get_data(as_text=True)
    assert "This mailing is still being sent." in refused
    assert mails(outbox) == []
    # One message went before the worker died; another was being sent as it died.
    first, second, _third = db.session.scalars(
        select(Delivery).where(Delivery.mailing_id == mailing.id).order_by(Delivery.id)
    ).all()
    long_ago = utcnow() - STALLED_AFTER - timedelta(minutes=1)
    first.sent_at, first.attempts, first.claimed_at = long_ago, 1, long_ago
    second.attempts, second.claimed_at = 1, long_ago
    _stall(mailing)
    page = client.get(url).get_data(as_text=True)
    assert "Send the rest" in page and 'http-equiv="refresh"' not in page
    assert "<dd>1</dd>" in page  # sent so far
    desk = client.get(f"/appeals/{owner_appeal.id}/submissions/{submission.id}")
    assert "1 sent, 0 failed, 0 left out" in desk.get_data(as_text=True)
    resumed = client.post(f"{url}/resume", follow_redirects=True).get_data(as_text=True)
    assert "The messages not sent yet are queued again." in resumed
    assert len(mails(outbox)) == 2  # the two not sent; never the first again
    db.session.refresh(mailing)
    assert (mailing.status, mailing.sent, mailing.failed) == (MailingStatus.done, 3, 0)
    ended = client.post(f"{url}/resume", follow_redirects=True).get_data(as_text=True)
    assert "This mailing has ended" in ended
    assert len(mails(outbox)) == 2


def test_two_runs_of_a_mailing_write_to_each_signer_once(
    owner_appeal, make_signature, make_submission, outbox, monkeypatch
):
    # The first run was slow, not dead, when a second one began: each message is claimed
    # before it is sent, so the runs share the messages instead of both sending them.
    submission = _answered(owner_appeal, make_signature, make_submission, hearing=3)
    mailing = _mailing(submission)
    real_send = mailings.send_mail
    second_run = {"started": False}

    def slow_send(*args, **kwargs):
        if not second_run["started"]:
            second_run["started"] = True
            with pytest.raises(MailingIncomplete):  # the first run's message is still out
                send_mailing(mailing.id)
        real_send(*args, **kwargs)

    monkeypatch.setattr(mailings, "send_mail", slow_send)
    send_mailing(mailing.id)
    assert len(mails(outbox)) == 3
    assert sorted(message["To"] for message in mails(outbox)) == sorted(
        {message["To"] for message in mails(outbox)}
    )
    mailing = db.session.get(Mailing, mailing.id)
    db.session.refresh(mailing)
    assert (mailing.status, mailing.sent, mailing.failed) == (MailingStatus.done, 3, 0)


def test_sending_on_needs_the_forms_token(
    app, client, owner_appeal, make_signature, make_submission, outbox
):
    submission = _answered(owner_appeal, make_signature, make_submission)
    mailing = _mailing(submission)
    _stall(mailing)
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/appeals/{owner_appeal.id}/mailings/{mailing.id}"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    forged = client.post(f"{url}/resume")
    assert forged.status_code == 400
    assert mails(outbox) == []
    assert client.post(f"{url}/resume", data={"csrf_token": token}).status_code == 302
    assert len(mails(outbox)) == 1


def test_a_failed_notice_is_sent_again_and_its_period_starts_again(
    client, owner_appeal, make_signature, make_submission, outbox
):
    make_signature(owner_appeal)
    make_signature(owner_appeal)
    submission = make_submission(owner_appeal, sent_on=None, received_on=None, notice_days=2)
    notice = _mailing(submission, MailingKind.notice)
    fail_every_try(notice.id)
    db.session.refresh(notice)
    assert (notice.status, notice.failed) == (MailingStatus.failed, 2)
    url = f"/appeals/{owner_appeal.id}/mailings/{notice.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Try the failed ones again" in page and "the notice period starts again" in page
    told_before = submission.notice_sent_at
    retried = client.post(f"{url}/retry", follow_redirects=True).get_data(as_text=True)
    assert "The messages that failed are queued again." in retried
    assert len(mails(outbox)) == 2
    db.session.refresh(notice)
    db.session.refresh(submission)
    assert (notice.status, notice.sent, notice.failed) == (MailingStatus.done, 2, 0)
    assert submission.notice_sent_at > told_before  # they were told only now
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "submission.mailing_retried")
    ).one()
    assert (event.subject_id, event.details["messages"]) == (notice.id, 2)
    again = client.post(f"{url}/retry", follow_redirects=True).get_data(as_text=True)
    assert "This mailing has no failed messages to send again." in again
    assert len(mails(outbox)) == 2
    # A notice of a submission handed in since is not sent again.
    db.session.execute(
        update(Mailing).where(Mailing.id == notice.id).values(status=MailingStatus.failed)
    )
    submission.sent_on = days_ago(owner_appeal, 0)
    db.session.commit()
    refused = client.post(f"{url}/retry", follow_redirects=True).get_data(as_text=True)
    assert "This submission was sent already." in refused
    assert len(mails(outbox)) == 2
