"""When the signer's mail cannot be sent: she gets her thanks page and her links all the same,
the mail waits in the queue (retried, then a dead letter), nothing is lost silently, and no
address reaches the log."""

import logging
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import LargeBinary, event, func, select, type_coerce
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from campaign import mail_dead_letters, mail_queue, tasks
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.mail_queue import (
    MailStatus,
    OutgoingMail,
    requeue_lost_mail,
    send_again_after_a_stop,
    send_queued_mail,
)
from campaign.signatures import sign_views as views
from campaign.signatures.models import Signature
from tests.mailbox import body, link_path, mails
from tests.signatures.test_sign_form import count_on_page, set_confirm


def refuse(to, subject, body):
    # What smtplib says quotes the address; the log must not.
    raise ConnectionRefusedError(f"cannot deliver to {to}")


@pytest.fixture
def mail_down(monkeypatch):
    monkeypatch.setattr(mail_queue, "send_mail", refuse)


@pytest.fixture
def closed_port():
    # A port nothing listens on: bound, then closed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stored():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Signature))


def waiting() -> list[OutgoingMail]:
    db.session.expire_all()
    return db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()


def withdrawal_link(html: str) -> str:
    return re.search(r'value="(http[^"]+/withdraw/[^"]+)"', html).group(1)


def test_a_mail_server_that_does_not_answer_costs_the_signer_nothing(
    app, client, open_appeal, sign, closed_port, monkeypatch, caplog, outbox
):
    state = app.extensions["mailman"]
    monkeypatch.setattr(state, "backend", "smtp")
    monkeypatch.setattr(state, "server", "127.0.0.1")
    monkeypatch.setattr(state, "port", closed_port)
    with caplog.at_level(logging.WARNING):
        response = sign(open_appeal, follow=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/withdraw/" in withdrawal_link(html)
    assert "We could not email it to you" not in html  # it is on its way
    assert stored() == 1 and count_on_page(client, open_appeal) == 1
    [mail] = waiting()
    assert mail.status is MailStatus.queued and mail.attempts == 1
    assert mail.last_error == "ConnectionRefusedError"
    assert mail.purpose == "signatures.thanks"
    assert "tried again in 60 s" in caplog.text
    assert "madina@example.org" not in caplog.text
    assert mails(outbox) == []


def test_a_signature_waiting_for_its_mail_is_kept_and_its_mail_queued(
    client, open_appeal, sign, mail_down
):
    set_confirm(open_appeal)
    response = sign(open_appeal, follow=True)
    assert response.status_code == 200
    assert "We have sent you an email" in response.get_data(as_text=True)
    assert stored() == 1
    [mail] = waiting()
    assert mail.purpose == "signatures.confirm" and mail.status is MailStatus.queued


def test_retries_back_off_then_a_dead_letter_that_retry_sends(
    app, client, runner, open_appeal, sign, monkeypatch, caplog, outbox
):
    app.config["MAIL_RETRIES"] = 3
    monkeypatch.setattr(mail_queue, "send_mail", refuse)
    with caplog.at_level(logging.WARNING):
        thanks = sign(open_appeal, follow=True).get_data(as_text=True)
        [mail] = waiting()
        delays = []
        for _ in range(3):  # what the queue does after each delay
            delays.append(mail_queue.retry_delay(mail.attempts))
            mail.next_attempt_at = utcnow()  # the delay is over
            db.session.commit()
            send_queued_mail(mail.id)
            db.session.expire_all()
    assert delays == [60, 120, 240]  # doubling
    assert mail.status is MailStatus.dead and mail.attempts == 4
    assert "kept as a dead letter" in caplog.text
    assert "madina@example.org" not in caplog.text
    send_queued_mail(mail.id)  # a dead letter waits for the operator
    db.session.expire_all()
    assert mail.attempts == 4

    listed = runner.invoke(args=["mail", "dead-letters"])
    assert listed.exit_code == 0, listed.output
    assert f"{mail.id}\t" in listed.output and "m***@e***.org" in listed.output
    assert "madina" not in listed.output and "ConnectionRefusedError" in listed.output

    monkeypatch.undo()  # the mail server is back
    retried = runner.invoke(args=["mail", "retry", "--all"])
    assert retried.exit_code == 0, retried.output
    assert "Queued 1 mail(s) again." in retried.output
    assert waiting() == []
    [message] = mails(outbox)
    assert message["To"] == "madina@example.org"
    assert link_path(message, f"/a/{open_appeal.slug}/withdraw/") in withdrawal_link(thanks)
    assert runner.invoke(args=["mail", "dead-letters"]).output.startswith("No dead letters.")


def test_a_signers_mail_names_its_appeal_and_dead_letters_go_in_time(
    app, runner, open_appeal, sign, monkeypatch
):
    monkeypatch.setattr(mail_queue, "send_mail", refuse)
    sign(open_appeal)
    sign(open_appeal, surname="Isaeva", email="zarema@example.org")
    old, recent = waiting()
    assert (old.appeal_id, recent.appeal_id) == (open_appeal.id, open_appeal.id)
    with app.test_request_context():
        account_mail = mail_queue.queue_mail(
            "organiser@example.org", "Subject", "Text", purpose="accounts.signup"
        )
    assert db.session.get(OutgoingMail, account_mail).appeal_id is None
    days = app.config["MAIL_DEAD_LETTER_DAYS"]
    for mail in (old, recent):
        mail.status = MailStatus.dead
    account = db.session.get(OutgoingMail, account_mail)
    account.status = MailStatus.dead
    account.created_at = utcnow() - timedelta(days=days + 1)
    old.created_at = utcnow() - timedelta(days=days, minutes=1)
    recent.created_at = utcnow() - timedelta(days=days - 1)
    db.session.commit()

    result = runner.invoke(args=["mail", "purge-dead"])
    assert result.exit_code == 0, result.output
    assert f"Deleted 2 dead letter(s) older than {days} day(s)." in result.output
    assert [mail.id for mail in waiting()] == [recent.id]
    # A queued message is never a dead letter, however old.
    recent.status = MailStatus.queued
    recent.created_at = utcnow() - timedelta(days=days * 2)
    db.session.commit()
    assert "Deleted 0 dead letter(s)" in runner.invoke(args=["mail", "purge-dead"]).output
    assert len(waiting()) == 1


def test_retry_by_id_and_its_mistakes(runner, open_appeal, sign, monkeypatch, outbox):
    monkeypatch.setattr(mail_queue, "send_mail", refuse)
    sign(open_appeal)
    [mail] = waiting()
    monkeypatch.undo()
    assert runner.invoke(args=["mail", "retry"]).exit_code == 2  # neither ids nor --all
    missing = runner.invoke(args=["mail", "retry", str(mail.id + 1)])
    assert missing.exit_code == 1 and f"No mail waiting with id {mail.id + 1}" in missing.output
    assert len(waiting()) == 1  # nothing queued by a command that failed
    result = runner.invoke(args=["mail", "retry", str(mail.id)])
    assert result.exit_code == 0, result.output
    assert waiting() == [] and len(mails(outbox)) == 1


def test_a_header_error_after_the_commit_gives_her_the_thanks_page(
    client, open_appeal, sign, caplog, outbox
):
    # A crafted title (refused by the forms today, stored by an older version or by hand).
    open_appeal.latest_version.title = "Free them\nBcc: everyone@example.org"
    db.session.commit()
    with caplog.at_level(logging.WARNING):
        response = sign(open_appeal, follow=True)
    assert response.status_code == 200
    assert "/withdraw/" in withdrawal_link(response.get_data(as_text=True))
    assert stored() == 1
    [mail] = waiting()
    assert mail.status is MailStatus.dead and mail.attempts == 1  # not retried: it cannot go
    assert mail.last_error == "BadHeaderError"
    assert mails(outbox) == []
    assert "madina@example.org" not in caplog.text


def test_a_queue_that_does_not_answer_leaves_a_dead_letter(
    client, open_appeal, sign, monkeypatch, caplog, outbox
):
    def queue_down(*args):
        raise ConnectionError("redis://secret@queue:6379 is away")

    monkeypatch.setattr(mail_queue.tasks, "enqueue_later", queue_down)
    with caplog.at_level(logging.WARNING):
        response = sign(open_appeal, follow=True)
    assert "/withdraw/" in withdrawal_link(response.get_data(as_text=True))
    [mail] = waiting()
    assert mail.status is MailStatus.dead and mail.last_error == "queue: ConnectionError"
    assert "could not be queued" in caplog.text and "secret" not in caplog.text


@pytest.fixture
def mail_not_stored(monkeypatch):
    def cannot_store(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(views, "queue_mail", cannot_store)


def test_a_signature_that_counts_at_once_is_kept_when_its_mail_cannot_be_stored(
    client, open_appeal, sign, mail_not_stored, caplog
):
    with caplog.at_level(logging.WARNING):
        response = sign(open_appeal, follow=True)
    html = response.get_data(as_text=True)
    assert "/withdraw/" in html
    assert "We could not email it to you: keep it from this page." in html
    assert stored() == 1 and count_on_page(client, open_appeal) == 1
    assert "Mail to a signer" in caplog.text
    assert "madina@example.org" not in caplog.text


def test_a_signature_whose_mail_cannot_be_stored_is_not_kept_and_the_form_is(
    client, open_appeal, sign, mail_not_stored
):
    set_confirm(open_appeal)
    response = sign(open_appeal, surname="Налоева")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "We could not send the email that confirms your signature" in html
    assert 'value="Налоева"' in html and 'value="madina@example.org"' in html
    assert 'name="signature" type="hidden" value="data:image/png;base64,' in html
    assert stored() == 0


def test_the_refusal_is_in_russian(client, open_appeal, sign, mail_not_stored):
    set_confirm(open_appeal)
    response = sign(open_appeal, headers={"Accept-Language": "ru"})
    assert "Не удалось отправить письмо" in response.get_data(as_text=True)


def test_once_the_mail_can_be_stored_she_can_sign_again(
    client, open_appeal, sign, monkeypatch, outbox
):
    set_confirm(open_appeal)
    queue = views.queue_mail
    monkeypatch.setattr(views, "queue_mail", lambda *a, **k: 1 / 0)
    assert sign(open_appeal).status_code == 503
    monkeypatch.setattr(views, "queue_mail", queue)
    response = sign(open_appeal, follow=True)
    assert "We have sent you an email" in response.get_data(as_text=True)
    assert stored() == 1
    [message] = mails(outbox)
    assert "/confirm/" in body(message)


def test_mask_address():
    assert mail_dead_letters.mask_address("madina@example.org") == "m***@e***.org"
    assert mail_dead_letters.mask_address("a@localhost") == "a***@l***"
    assert mail_dead_letters.mask_address("nonsense") == "***"


def test_a_waiting_mail_is_sealed_at_rest(client, open_appeal, sign, mail_down):
    sign(open_appeal)
    table = OutgoingMail.__table__
    raw = db.session.execute(
        select(*(type_coerce(table.c[name], LargeBinary) for name in ("recipient", "body")))
    ).one()
    assert all(value.startswith(b"\x01") for value in raw)
    assert not any(b"madina@example.org" in value or b"/withdraw/" in value for value in raw)


def test_a_signature_and_its_mail_are_one_write(client, open_appeal, sign, mail_down):
    # Each write transaction waits for SQLite's lock: her signature and her mail go in one.
    written: dict[int, set[str]] = {}

    def flushed(session, _context, _instances):
        outermost = session.get_transaction()
        kinds = written.setdefault(id(outermost), set())
        kinds.update(type(instance).__name__ for instance in session.new)

    event.listen(Session, "before_flush", flushed)
    try:
        response = sign(open_appeal)
    finally:
        event.remove(Session, "before_flush", flushed)
    assert response.status_code == 302
    assert stored() == 1 and len(waiting()) == 1  # the mail server refused: tried again later
    together = [kinds for kinds in written.values() if "Signature" in kinds]
    assert together == [together[0]] and "OutgoingMail" in together[0], written


def test_a_worker_stopped_mid_send_queues_the_mail_again(
    app, open_appeal, sign, mail_down, outbox, monkeypatch
):
    sign(open_appeal)
    [mail] = waiting()
    assert tasks.registered_job(mail_queue.SEND_JOB).on_interrupt is send_again_after_a_stop
    huey = tasks.get_queue(app).huey
    before = len(huey.scheduled())
    send_again_after_a_stop(mail.id)  # as the stopping worker calls it, in an app context
    (task,) = huey.scheduled()[before:]
    assert task.args[:2] == (mail_queue.SEND_JOB, [mail.id])
    # Sent before the stop (its row deleted), or a dead letter: nothing is queued.
    db.session.delete(mail)
    db.session.commit()
    send_again_after_a_stop(mail.id)
    assert len(huey.scheduled()) == before + 1


def test_mail_its_queue_lost_is_queued_again_once_when_a_consumer_starts(app, outbox, caplog):
    # A worker killed while sending (or a Redis that restarted empty): the row waits, due
    # long ago, and no job will come for it.
    now = utcnow()

    def stored_mail(to, due, status=MailStatus.queued):
        mail = OutgoingMail(recipient=to, subject="S", body="B", purpose="tests.lost")
        mail.next_attempt_at, mail.status = due, status
        db.session.add(mail)
        return mail

    stored_mail("lost@example.org", now - timedelta(minutes=20))
    waiting_for_its_retry = stored_mail("soon@example.org", now - timedelta(minutes=1))
    stored_mail("dead@example.org", now - timedelta(hours=2), MailStatus.dead)
    db.session.commit()
    assert requeue_lost_mail in tasks._at_start
    with caplog.at_level(logging.WARNING):
        assert requeue_lost_mail() == 1
    assert [message["To"] for message in mails(outbox)] == ["lost@example.org"]
    assert "1 mail(s) lost by the task queue queued again" in caplog.text
    assert "lost@example.org" not in caplog.text
    assert {mail.recipient for mail in waiting()} == {"soon@example.org", "dead@example.org"}
    assert waiting_for_its_retry in waiting()
    assert requeue_lost_mail() == 0  # the next consumer to start finds nothing lost


def _stored(to="claim@example.org", due=None):
    mail = OutgoingMail(recipient=to, subject="S", body="B", purpose="tests.claim")
    mail.next_attempt_at = due or utcnow()
    db.session.add(mail)
    db.session.commit()
    return mail.id


def test_mail_a_job_is_sending_is_not_lost_until_its_claim_runs_out(app, outbox):
    # Due long ago, and claimed by a job sending it now (a slow server): not lost. Its worker
    # killed, the claim runs out, and the next consumer to start queues it again.
    now = utcnow()
    mail_id = _stored(due=now - timedelta(minutes=20))
    mail = db.session.get(OutgoingMail, mail_id)
    mail.claimed_until = now + timedelta(minutes=2)
    db.session.commit()
    assert requeue_lost_mail() == 0 and mails(outbox) == []
    mail.claimed_until = now - timedelta(seconds=1)
    db.session.commit()
    assert requeue_lost_mail() == 1
    assert [message["To"] for message in mails(outbox)] == ["claim@example.org"]
    assert waiting() == []


def test_two_jobs_for_one_message_send_it_once(app, outbox, monkeypatch):
    # Its own job, and one queued again (requeue_lost_mail, `flask mail retry`) meanwhile.
    mail_id = _stored()
    sent = []

    def slow_server(to, subject, body):
        send_queued_mail(mail_id)  # the other job, while this one is talking to the server
        sent.append(to)

    monkeypatch.setattr(mail_queue, "send_mail", slow_server)
    send_queued_mail(mail_id)
    assert sent == ["claim@example.org"]
    assert waiting() == []
    send_queued_mail(mail_id)  # and a job that comes after: sent already
    assert sent == ["claim@example.org"]


def test_a_job_for_a_message_whose_next_try_is_later_sends_nothing(app, outbox, mail_down):
    # A job left from before its message was queued again and failed: the retry has its own.
    mail_id = _stored(due=utcnow() + timedelta(minutes=3))
    send_queued_mail(mail_id)
    [mail] = waiting()
    assert mail.attempts == 0 and mails(outbox) == []


def test_a_stopped_send_gives_its_claim_back_for_the_job_queued_again(app, outbox, monkeypatch):
    mail_id = _stored()
    huey = tasks.get_queue(app).huey
    before = len(huey.scheduled())

    def stopped(to, subject, body):
        # SIGTERM: the worker calls on_interrupt while the send hangs; its thread dies.
        send_again_after_a_stop(mail_id)
        raise KeyboardInterrupt

    monkeypatch.setattr(mail_queue, "send_mail", stopped)
    with pytest.raises(KeyboardInterrupt):
        send_queued_mail(mail_id)
    (task,) = huey.scheduled()[before:]
    assert task.args[:2] == (mail_queue.SEND_JOB, [mail_id])
    [mail] = waiting()
    assert mail.attempts == 0 and mail.claimed_until is None
    monkeypatch.undo()
    send_queued_mail(mail_id)  # the job queued again, ten seconds later
    assert [message["To"] for message in mails(outbox)] == ["claim@example.org"]
    assert waiting() == []


def test_a_stopped_job_leaves_a_message_another_job_is_sending(app, outbox, monkeypatch):
    mail_id = _stored()
    huey = tasks.get_queue(app).huey
    before = len(huey.scheduled())
    stops = []

    def sending(to, subject, body):
        # Another worker's job for the same message, which never claimed it, is stopped.
        stops.append(mail_queue._claims.copy())
        mail_queue._claims.clear()
        send_again_after_a_stop(mail_id)
        mail_queue._claims.update(stops[0])

    monkeypatch.setattr(mail_queue, "send_mail", sending)
    send_queued_mail(mail_id)
    assert len(huey.scheduled()) == before  # nothing queued: this send is under way
    assert waiting() == [] and mail_queue._claims == {}


def test_retry_leaves_a_message_its_job_is_sending(app, runner, outbox, monkeypatch):
    mail_id = _stored()
    said = []

    def slow_server(to, subject, body):
        # The operator, seeing it queued, asks for it again while it is being sent.
        said.append(runner.invoke(args=["mail", "retry", str(mail_id)]).output)
        db.session.expire_all()

    monkeypatch.setattr(mail_queue, "send_mail", slow_server)
    send_queued_mail(mail_id)
    assert said == [f"Being sent now, left to its job: {mail_id}.\nQueued 0 mail(s) again.\n"]
    assert waiting() == []
