"""Mail leaves the request: each message is a sealed row, sent by a queued job, retried with
backoff, and kept as a dead letter when it cannot go.

Every sender calls `queue_mail`. It stores the message (address, subject and text sealed at
rest: the text may hold a private withdrawal link), commits, and queues the job
"mail.send" with the row's id, so that the queue carries no address and a slow or failing mail
server costs the person who asked nothing. The job deletes the row once the message is sent.
A failure the mail server may get over (a refused connection, a timeout, a 4xx) is tried
again after MAIL_RETRY_DELAY, doubling each time, MAIL_RETRIES times; after that, or at once
for a message that cannot be built (a line break in a header), the row stays as a dead letter:
`flask mail dead-letters` lists them, `flask mail retry` queues them again and `flask mail
purge-dead` deletes them in time (campaign.mail_dead_letters). A signer's mail names its appeal,
and the erasure of the appeal's private details deletes it unsent (`forget_appeal_mail`).

A job claims its message before sending it (`claimed_until`): a message may have two jobs at
once (its own, and one queued again by `requeue_lost_mail` or `flask mail retry` while its own
still waited), and only the first to claim it sends it; a job whose message's next try is not
due (its retry has a job of its own) does nothing.
"""

import enum
import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, ForeignKey, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from campaign import tasks
from campaign.clock import utcnow
from campaign.crypto import SealedText
from campaign.extensions import db
from campaign.mail import send_mail
from campaign.types import UTCDateTime

logger = logging.getLogger(__name__)

SEND_JOB = "mail.send"
# What never gets better by trying again: the message itself is wrong (flask-mailman's
# BadHeaderError is a ValueError; a character the charset cannot carry a UnicodeError).
_PERMANENT = (ValueError, TypeError, LookupError)
# A queued mail whose next try is this far in the past was lost by its queue (a Redis that
# restarted empty, a worker killed mid-send): `flask mail retry --all` queues it again.
LOST_AFTER = timedelta(minutes=15)
# A worker stopped mid-send (SIGTERM) queues the message again this much later, once it has
# gone; one killed outright leaves it to the next consumer's start (requeue_lost_mail).
_AFTER_A_STOP = 10.0
# How long a job's claim on its message holds: time enough to send it (MAIL_TIMEOUT bounds
# each step), after which a send that never finished, its worker killed, is no one's.
_SENDING = timedelta(minutes=5)
# A job may run this much before its message's next try, by the clock of the host that
# stored the try (hosts' clocks differ by a little).
_EARLY = timedelta(minutes=1)
# The claims this process holds, by message, until its send ends: what its worker's stop
# gives back (send_again_after_a_stop).
_claims: dict[int, datetime] = {}


class MailStatus(enum.Enum):
    """Where a stored message is: waiting for (another) try, or given up on."""

    queued = "queued"
    dead = "dead"


class OutgoingMail(db.Model):
    """A message not sent yet: queued, or a dead letter (sent ones are deleted)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[MailStatus] = mapped_column(default=MailStatus.queued, index=True)
    # What kind of mail, for the operator ("signatures.thanks"): a code, never personal data.
    purpose: Mapped[str] = mapped_column(String(48))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set while a job sends it: until then no other job (nor `flask mail retry`) touches it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The kind of the last error (ConnectionRefusedError), never its message: a mail server's
    # words quote the address.
    last_error: Mapped[str] = mapped_column(String(80), default="")
    recipient: Mapped[str] = mapped_column(SealedText("outgoing_mail.recipient"))
    subject: Mapped[str] = mapped_column(SealedText("outgoing_mail.subject"))
    body: Mapped[str] = mapped_column(SealedText("outgoing_mail.body"))
    # The appeal a signer's mail is about (None for account mail): its erasure takes the mail.
    appeal_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeal.id", ondelete="CASCADE"), index=True
    )

    def __repr__(self) -> str:
        return f"<OutgoingMail {self.id} {self.purpose} {self.status.value}>"


def queue_mail(
    to: str,
    subject: str,
    body: str,
    *,
    purpose: str,
    commit: bool = True,
    appeal_id: int | None = None,
) -> int:
    """Store a plain-text message to one address, commit, and queue its sending; a signer's
    mail names its appeal.

    Commits the session (with whatever the caller had pending): the job may run at once, in
    another process. Raises if the message cannot be stored; once it is stored, a queue
    that does not answer leaves it as a dead letter (logged), never an error for the caller.

    With commit=False the message is only stored in the caller's transaction (one write for
    both, as signing does): the caller commits, then calls `send_stored` with the id.
    """
    message = OutgoingMail(
        recipient=to, subject=subject, body=body, purpose=purpose, appeal_id=appeal_id
    )
    db.session.add(message)
    db.session.flush()
    mail_id = message.id
    if not commit:
        return mail_id
    db.session.commit()
    # Not message.id after the commit: reading it back would hold a connection for the rest
    # of the request (and, when jobs run inside enqueue, a second one with the job's).
    send_later(mail_id, purpose, 0.0)
    return mail_id


def send_stored(mail_id: int, purpose: str) -> None:
    """Queue the sending of a message stored by queue_mail(commit=False), once committed."""
    send_later(mail_id, purpose, 0.0)


def send_later(mail_id: int, purpose: str, delay: float) -> None:
    """Queue the sending of a stored message `delay` seconds on; a queue that does not answer
    leaves it as a dead letter (logged)."""
    try:
        tasks.enqueue_later(delay, SEND_JOB, mail_id)
    except Exception as error:
        logger.error(
            "Mail %s (%s) could not be queued (%s): kept as a dead letter.",
            mail_id,
            purpose,
            type(error).__name__,
        )
        db.session.rollback()
        stored = db.session.get(OutgoingMail, mail_id)
        if stored is not None:
            stored.status = MailStatus.dead
            stored.last_error = f"queue: {type(error).__name__}"[:80]
            db.session.commit()


def retry_delay(attempts: int) -> float:
    """Seconds to wait before the try after `attempts` failed ones (doubling each time)."""
    base = float(current_app.config["MAIL_RETRY_DELAY"])
    return base * 2 ** max(0, attempts - 1)


def unclaimed(now: datetime) -> ColumnElement[bool]:
    """No job is sending the message now (none claimed it, or its claim ran out)."""
    return or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now)


@tasks.at_consumer_start
def requeue_lost_mail() -> int:
    """Queue again each message whose queue lost it (due LOST_AFTER ago or more, and no job
    sending it: a worker killed while sending it, a Redis that restarted empty); once,
    whichever process starting its consumer gets to it first. Returns how many."""
    now = utcnow()
    lost = db.session.execute(
        select(OutgoingMail.id, OutgoingMail.purpose, OutgoingMail.next_attempt_at).where(
            OutgoingMail.status == MailStatus.queued,
            OutgoingMail.next_attempt_at < now - LOST_AFTER,
            unclaimed(now),
        )
    ).all()
    queued = 0
    for mail_id, purpose, due in lost:
        taken = db.session.execute(
            update(OutgoingMail)
            .where(
                OutgoingMail.id == mail_id,
                OutgoingMail.status == MailStatus.queued,
                OutgoingMail.next_attempt_at == due,
                unclaimed(now),
            )
            .values(next_attempt_at=now, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if taken.rowcount == 1:
            send_later(mail_id, purpose, 0.0)
            queued += 1
    if queued:
        logger.warning("%d mail(s) lost by the task queue queued again.", queued)
    return queued


def send_again_after_a_stop(mail_id: int) -> None:
    """Queue again a message whose worker stopped while sending it (its on_interrupt).

    The claim this process took is given back first. A message another job is sending, or
    waiting for a later try with its own job, is left to that job.
    """
    claimed = _claims.pop(mail_id, None)
    message = db.session.get(OutgoingMail, mail_id)
    if message is None or message.status is not MailStatus.queued:
        return  # sent (and deleted) before the stop, or a dead letter
    purpose, now = message.purpose, utcnow()
    if claimed is not None:
        given_back = db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id, OutgoingMail.claimed_until == claimed)
            .values(claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if given_back.rowcount != 1:
            return
    elif (message.claimed_until is not None and message.claimed_until > now) or (
        message.next_attempt_at > now + _EARLY
    ):
        return
    send_later(mail_id, purpose, _AFTER_A_STOP)


def _claim(mail_id: int) -> OutgoingMail | None:
    """Claim a queued message whose try is due, for this job alone; None if it is not ours."""
    now = utcnow()
    until = now + _SENDING
    taken = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.status == MailStatus.queued,
            OutgoingMail.next_attempt_at <= now + _EARLY,
            unclaimed(now),
        )
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if taken.rowcount != 1:
        return None
    _claims[mail_id] = until
    return db.session.get(OutgoingMail, mail_id)


@tasks.job(SEND_JOB, on_interrupt=send_again_after_a_stop)
def send_queued_mail(mail_id: int) -> None:
    """Try to send one stored message; delete it when sent, retry or keep it when not.

    Nothing is done for a message sent already, a dead letter, one another job is sending,
    or one whose next try is not due (that try has its own job).
    """
    message = _claim(mail_id)
    if message is None:
        return
    try:
        try:
            send_mail(message.recipient, message.subject, message.body)
        except Exception as error:
            _failed(message, error)
            return
        db.session.delete(message)
        db.session.commit()
    finally:
        _claims.pop(mail_id, None)


def _failed(message: OutgoingMail, error: Exception) -> None:
    message.attempts += 1
    message.claimed_until = None
    message.last_error = type(error).__name__[:80]
    permanent = isinstance(error, _PERMANENT)
    if permanent or message.attempts > int(current_app.config["MAIL_RETRIES"]):
        message.status = MailStatus.dead
        db.session.commit()
        logger.error(
            "Mail %s (%s) failed with %s after %d attempt(s): kept as a dead letter.",
            message.id,
            message.purpose,
            message.last_error,
            message.attempts,
        )
        return
    delay = retry_delay(message.attempts)
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    mail_id, purpose, error_kind, attempts = (
        message.id,
        message.purpose,
        message.last_error,
        message.attempts,
    )
    db.session.commit()
    logger.warning(
        "Mail %s (%s) failed with %s (attempt %d): tried again in %g s.",
        mail_id,
        purpose,
        error_kind,
        attempts,
        delay,
    )
    send_later(mail_id, purpose, delay)


def forget_appeal_mail(appeal_id: int) -> int:
    """Delete the appeal's signers' mail not sent yet (queued or dead), but for a message a
    job is sending now (it deletes it once sent); return how many. Flushes, never commits."""
    gone = db.session.execute(
        delete(OutgoingMail)
        .where(OutgoingMail.appeal_id == appeal_id, unclaimed(utcnow()))
        .execution_options(synchronize_session=False)
    )
    return gone.rowcount or 0
