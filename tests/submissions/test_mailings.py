"""Telling the signers: the notice period, the update with its unsubscribe link, retries."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.models import Signature
from campaign.submissions import mailings
from campaign.submissions.mailings import MailingIncomplete, send_mailing, start_mailing
from campaign.submissions.models import AnswerKind, Delivery, Mailing, MailingKind, MailingStatus
from campaign.submissions.operations import AnswerData, record_answer
from tests.mailbox import body, link_path, mails, subject
from tests.submissions.conftest import days_ago, fail_every_try
from tests.submissions.test_desk import _form


def _key(page: str, form_action: str) -> str:
    start = page.index(form_action)
    marker = 'name="request_key" type="hidden" value="'
    at = page.index(marker, start) + len(marker)
    return page[at : page.index('"', at)]


def test_a_notice_period_is_kept_before_record_as_sent(
    client, owner_appeal, make_signature, make_submission, outbox
):
    make_signature(owner_appeal)
    make_signature(owner_appeal, email="")  # no email: not told
    submission = make_submission(owner_appeal, sent_on=None, received_on=None, notice_days=3)
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Tell the signers now" in page and "Record as sent today" not in page
    key = _key(page, "/notice")
    assert client.post(f"{url}/notice", data={"request_key": key}).status_code == 302
    assert client.post(f"{url}/notice", data={"request_key": key}).status_code == 302  # twice
    (message,) = mails(outbox)
    assert "about to be handed in" in subject(message)
    assert "The President, Office of the President" in body(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    withdraw = link_path(message, f"/a/{owner_appeal.slug}/withdraw/")
    assert client.get(withdraw).status_code == 200  # her new withdrawal link works
    # The period is not over: the desk does not offer it, and the operation refuses it.
    page = client.get(url).get_data(as_text=True)
    assert "Record as sent today" not in page and "opens on" in page
    client.post(f"{url}/sent")
    db.session.refresh(submission)
    assert submission.sent_on is None
    submission.notice_sent_at = utcnow() - timedelta(days=3, minutes=1)
    db.session.commit()
    assert "Record as sent today" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/sent")
    db.session.refresh(submission)
    assert submission.sent_on == days_ago(owner_appeal, 0)


def test_a_dated_hand_in_with_a_notice_period_is_refused(client, owner_appeal, make_snapshot):
    snapshot = make_snapshot(owner_appeal)
    response = client.post(
        f"/appeals/{owner_appeal.id}/submissions", data=_form(snapshot.id, notice_days="2")
    )
    assert response.status_code == 400
    assert "Leave this empty until the signers were told" in response.get_data(as_text=True)


@pytest.fixture
def answered(owner_appeal, make_signature, make_submission):
    hears = make_signature(owner_appeal, hear_of_answer=True)
    make_signature(owner_appeal)  # did not ask to hear
    gone = make_signature(owner_appeal, hear_of_answer=True)
    gone.unsubscribed_at = utcnow()
    submission = make_submission(owner_appeal, registered_on=days_ago(owner_appeal, 5))
    record_answer(
        submission,
        AnswerData(AnswerKind.answered, days_ago(owner_appeal, 1)),
        owner_appeal.memberships[0].user,
    )
    db.session.commit()
    return submission, hears


def test_the_update_is_previewed_sent_once_and_counted(client, owner_appeal, answered, outbox):
    submission, hears = answered
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/update"
    key = _key(client.get(url).get_data(as_text=True), "<form")
    data = {
        "request_key": key,
        "subject": "The answer came",
        "body": "They *answered*.<script>x()</script>",
    }
    preview = client.post(url, data={**data, "preview": "y"}).get_data(as_text=True)
    assert "<em>answered</em>" in preview and "<script>x()" not in preview
    assert mails(outbox) == []
    first = client.post(url, data={**data, "submit": "y"})
    second = client.post(url, data={**data, "submit": "y"})  # a double click
    assert first.headers["Location"] == second.headers["Location"]
    (message,) = mails(outbox)
    assert message["To"] == hears.email
    assert subject(message) == "The answer came"
    assert message["List-Unsubscribe"].strip().startswith("<http://campaign.test/unsubscribe/")
    mailing = db.session.scalar(select(Mailing))
    assert (mailing.status, mailing.total, mailing.sent, mailing.failed, mailing.unsubscribed) == (
        MailingStatus.done,
        1,
        1,
        0,
        1,
    )
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Left out: they asked for no more messages" in page


def test_no_update_before_an_answer(client, owner_appeal, make_submission):
    submission = make_submission(owner_appeal)
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/update"
    response = client.post(
        url, data={"request_key": "k" * 20, "subject": "S", "body": "B", "submit": "y"}
    )
    assert response.status_code == 400
    assert "Record the answer before telling the signers." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Mailing)) == 0


def test_unsubscribe_once_twice_and_forged(client, owner_appeal, answered, outbox):
    submission, hears = answered
    mailing, _new = start_mailing(
        submission,
        MailingKind.update,
        "key-one-0000000000",
        owner_appeal.memberships[0].user,
        subject="S",
        body="B",
    )
    send_mailing(mailing.id)
    path = link_path(mails(outbox)[0], "/unsubscribe/")
    assert "Stop these messages" in client.get(path).get_data(as_text=True)
    assert db.session.get(Signature, hears.id).unsubscribed_at is None  # a GET changes nothing
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert "You will receive no more messages" in done.get_data(as_text=True)
    again = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert "You had already asked for no more messages" in again.get_data(as_text=True)
    forged = client.post(path[:-3] + "abc", data={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 404
    assert client.get("/unsubscribe/1").status_code == 404
    later, _new = start_mailing(
        submission,
        MailingKind.update,
        "key-two-0000000000",
        owner_appeal.memberships[0].user,
        subject="S2",
        body="B2",
    )
    assert later.total == 0 and later.unsubscribed == 2


def test_failed_messages_are_retried_then_counted(owner_appeal, answered, outbox, monkeypatch):
    submission, _hears = answered
    mailing, _new = start_mailing(
        submission,
        MailingKind.update,
        "key-three-00000000",
        owner_appeal.memberships[0].user,
        subject="S",
        body="B",
    )
    real = mailings.send_mail
    failures = {"left": 1}

    def flaky(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("server away")
        real(*args, **kwargs)

    monkeypatch.setattr(mailings, "send_mail", flaky)
    with pytest.raises(MailingIncomplete):
        send_mailing(mailing.id)
    assert mails(outbox) == []
    send_mailing(mailing.id)  # the job's retry
    assert len(mails(outbox)) == 1
    db.session.refresh(mailing)
    assert (mailing.status, mailing.sent, mailing.failed) == (MailingStatus.done, 1, 0)

    # A server that never answers: tried MAX_ATTEMPTS times, then counted as failed.
    never, _new = start_mailing(
        submission,
        MailingKind.update,
        "key-four-000000000",
        owner_appeal.memberships[0].user,
        subject="S",
        body="B",
    )
    fail_every_try(never.id)
    db.session.refresh(never)
    assert (never.status, never.sent, never.failed) == (MailingStatus.failed, 0, 1)
    assert db.session.scalar(select(Delivery.attempts).where(Delivery.mailing_id == never.id)) == 3


def test_the_sign_form_asks_whether_to_hear_of_the_answer(
    client, make_published_appeal, make_signature
):
    appeal = make_published_appeal()
    page = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "Email me when the answer to the appeal comes" in page
    assert make_signature(appeal, hear_of_answer=True).hear_of_answer
    assert not make_signature(appeal, hear_of_answer=True, email="").hear_of_answer
