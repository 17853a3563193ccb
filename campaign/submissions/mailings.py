"""Telling the signers: a notice before a submission, an update when the answer comes.

Each mailing is sent on the task queue, one Delivery per recipient, at a bounded rate; a
message that fails is tried again by the job's retries, and what could not be sent in the end
is counted, never dropped unseen. A double click finds the mailing its form's key made.

A mailing whose worker stopped goes on where it stopped: queued again by the stopping worker,
or from its page once nothing has been heard of it for STALLED_AFTER. Each try of a message is
claimed in the database first, so two runs of one mailing never send one message twice.
"""

import logging
import secrets
import time
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from campaign import tasks
from campaign.accounts.models import User
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.mail import send_mail
from campaign.signatures.models import Signature, SignatureStatus
from campaign.signatures.signer_links import renew_withdraw_token
from campaign.submissions.models import (
    Delivery,
    Mailing,
    MailingKind,
    MailingStatus,
    Submission,
)
from campaign.submissions.operations import SubmissionRefused
from campaign.urls import public_url_for

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# With no message sent for this long, a mailing's worker is taken for stopped (killed: a stop
# that lets it say so queues the mailing again itself), and its page offers to send the rest.
STALLED_AFTER = timedelta(minutes=15)
# A stopped worker queues its mailing again this much later, once it has gone.
RESUME_DELAY = 10.0
# The messages this process's runs are making, by mailing: {delivery id: its claim}. What a
# worker's stop gives back (resume_mailing), so that the run queued again makes them at once,
# not after STALLED_AFTER.
_in_flight: dict[int, dict[int, datetime]] = {}
_UNSUBSCRIBE_SALT = "submissions.unsubscribe"


def new_request_key() -> str:
    """A fresh key for a form that must act once however often it is sent."""
    return secrets.token_urlsafe(24)


def unsubscribe_token(signature_id: int) -> str:
    """A signed token that stops messages to this signer; it names no one."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT).dumps(
        signature_id
    )


def signature_for_unsubscribe(token: str) -> Signature | None:
    """The signer a genuine token names, or None for a forged or damaged one."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)
    try:
        signature_id = serializer.loads(token)
    except BadSignature:
        return None
    if not isinstance(signature_id, int):
        return None
    return db.session.get(Signature, signature_id)


def unsubscribe(signature: Signature) -> bool:
    """Stop messages to her; return False when she had already stopped them."""
    if signature.unsubscribed_at is not None:
        return False
    signature.unsubscribed_at = utcnow()
    signature.hear_of_answer = False
    db.session.flush()
    return True


def _recipients(submission: Submission, kind: MailingKind) -> tuple[list[int], int]:
    """Ids of the signers to write to, and how many were left out as unsubscribed."""
    query = select(Signature.id, Signature.unsubscribed_at).where(
        Signature.appeal_id == submission.appeal_id,
        Signature.status == SignatureStatus.valid,
        Signature.email.is_not(None),
    )
    if kind is MailingKind.update:
        query = query.where(
            (Signature.hear_of_answer.is_(True)) | (Signature.unsubscribed_at.is_not(None))
        )
    rows = db.session.execute(query.order_by(Signature.id)).all()
    return [row.id for row in rows if row.unsubscribed_at is None], sum(
        1 for row in rows if row.unsubscribed_at is not None
    )


def start_mailing(
    submission: Submission,
    kind: MailingKind,
    request_key: str,
    by: User,
    *,
    subject: str = "",
    body: str = "",
) -> tuple[Mailing, bool]:
    """Create the mailing and its deliveries (committed), or find the one this form's key
    made; return it and whether it is new. The caller enqueues a new one."""
    existing = db.session.scalar(select(Mailing).where(Mailing.request_key == request_key))
    if existing is not None:
        return existing, False
    if kind is MailingKind.update and submission.answer is None:
        raise SubmissionRefused("subject", _l("Record the answer before telling the signers."))
    if kind is MailingKind.notice and submission.sent_on is not None:
        raise SubmissionRefused("subject", _l("This submission was sent already."))
    recipients, left_out = _recipients(submission, kind)
    mailing = Mailing(
        submission_id=submission.id,
        kind=kind,
        request_key=request_key,
        subject=subject,
        body=body,
        total=len(recipients),
        unsubscribed=left_out,
        created_by_id=by.id,
    )
    db.session.add(mailing)
    try:
        db.session.flush()
    except IntegrityError:  # the same key from a second click, at the same moment
        db.session.rollback()
        found = db.session.scalar(select(Mailing).where(Mailing.request_key == request_key))
        assert found is not None
        return found, False
    db.session.add_all(Delivery(mailing_id=mailing.id, signature_id=sid) for sid in recipients)
    if kind is MailingKind.notice:
        submission.notice_sent_at = utcnow()
    record_event(
        submission.appeal_id,
        "submission.notice_sent" if kind is MailingKind.notice else "submission.update_sent",
        subject=("mailing", mailing.id),
        submission=submission.id,
        recipients=len(recipients),
        unsubscribed=left_out,
    )
    db.session.commit()
    return mailing, True


def enqueue_mailing(mailing: Mailing) -> None:
    """Put the mailing on the task queue (after it is committed)."""
    tasks.enqueue("submissions.send_mailing", mailing.id)


def is_sending(mailing: Mailing) -> bool:
    """Whether the mailing has not ended (queued, or some messages not sent nor given up)."""
    return mailing.status in (MailingStatus.queued, MailingStatus.sending)


def sent_so_far(mailing: Mailing) -> int:
    """How many of its messages have gone out (the mailing's own count is set as it ends)."""
    if not is_sending(mailing):
        return mailing.sent
    return db.session.scalar(
        select(func.count()).where(Delivery.mailing_id == mailing.id, Delivery.sent_at.is_not(None))
    )


def is_stalled(mailing: Mailing) -> bool:
    """Whether a mailing not ended has tried no message for STALLED_AFTER (its worker
    stopped)."""
    if not is_sending(mailing):
        return False
    last_sent, last_claimed = db.session.execute(
        select(func.max(Delivery.sent_at), func.max(Delivery.claimed_at)).where(
            Delivery.mailing_id == mailing.id
        )
    ).one()
    heard = [when for when in (mailing.created_at, last_sent, last_claimed) if when is not None]
    return utcnow() - max(heard) > STALLED_AFTER


def retry_failed(mailing: Mailing, submission: Submission) -> int:
    """Give the messages of an ended mailing that failed every try a new round of tries
    (committed, with its audit event) and return how many; 0 if it has none. The caller
    enqueues. A notice's period starts again: those signers are told only now. Raise
    SubmissionRefused for a notice of a submission sent already."""
    if mailing.kind is MailingKind.notice and submission.sent_on is not None:
        raise SubmissionRefused("subject", _l("This submission was sent already."))
    count = db.session.execute(
        update(Delivery)
        .where(Delivery.mailing_id == mailing.id, Delivery.sent_at.is_(None))
        .values(attempts=0, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    reopened = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.status == MailingStatus.failed)
        .values(status=MailingStatus.sending, failed=0, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    if not count or reopened.rowcount != 1:  # none left (withdrawn since), or a second click
        db.session.rollback()
        return 0
    if mailing.kind is MailingKind.notice:
        submission.notice_sent_at = utcnow()
    record_event(
        submission.appeal_id,
        "submission.mailing_retried",
        subject=("mailing", mailing.id),
        submission=submission.id,
        messages=count,
    )
    db.session.commit()
    return count


def resume_mailing(mailing_id: int) -> None:
    """Queue a mailing again, to send the messages it has not (once its worker has gone).

    The messages this process's run had under way are given back first (their try counted).
    """
    for delivery_id, claimed_at in _in_flight.pop(mailing_id, {}).items():
        db.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.sent_at.is_(None),
                Delivery.claimed_at == claimed_at,
            )
            .values(claimed_at=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    tasks.enqueue_later(RESUME_DELAY, "submissions.send_mailing", mailing_id)


class MailingIncomplete(Exception):
    """Some messages failed and may be tried again: the job's retry does it."""


@tasks.job(
    "submissions.send_mailing",
    retries=MAX_ATTEMPTS,
    retry_delay=60.0,
    on_interrupt=resume_mailing,
)
def send_mailing(mailing_id: int) -> None:
    """Send every message of a mailing not sent yet, at the configured rate."""
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or mailing.status in (MailingStatus.done, MailingStatus.failed):
        return
    mailing.status = MailingStatus.sending
    db.session.commit()
    submission = db.session.get(Submission, mailing.submission_id)
    pause = 1.0 / max(float(current_app.config["SUBMISSION_MAIL_PER_SECOND"]), 0.001)
    pending = db.session.scalars(
        select(Delivery)
        .where(
            Delivery.mailing_id == mailing.id,
            Delivery.sent_at.is_(None),
            Delivery.attempts < MAX_ATTEMPTS,
        )
        .order_by(Delivery.id)
    ).all()
    for delivery in pending:
        signature = db.session.get(Signature, delivery.signature_id)
        if signature is None or signature.email is None or signature.unsubscribed_at is not None:
            # Withdrawn or unsubscribed meanwhile: she is not written to.
            _leave_out(mailing.id, delivery.id)
            continue
        claimed_at = _claim(delivery)
        if claimed_at is None:
            continue  # another run of this mailing has it
        in_flight = _in_flight.setdefault(mailing.id, {})
        in_flight[delivery.id] = claimed_at
        try:
            _deliver(mailing, submission, signature)
        except Exception as error:  # any mail failure: counted, and tried again by the retry
            db.session.rollback()
            delivery.claimed_at = None  # free for the next try
            logger.warning(
                "Mailing %s: message to signature %s failed with %s (attempt %s).",
                mailing.id,
                delivery.signature_id,
                type(error).__name__,
                delivery.attempts,
            )
        else:
            delivery.sent_at = utcnow()
        db.session.commit()
        in_flight.pop(delivery.id, None)
        time.sleep(pause)
    if not _in_flight.get(mailing.id, True):
        _in_flight.pop(mailing.id, None)
    _finish(mailing)


def _claim(delivery: Delivery) -> datetime | None:
    """Count this try of a message and mark it taken before making it (committed); return the
    claim, or None if another run of the mailing sent it or has it under way."""
    now = utcnow()
    claimed = db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery.id,
            Delivery.sent_at.is_(None),
            Delivery.attempts < MAX_ATTEMPTS,
            or_(Delivery.claimed_at.is_(None), Delivery.claimed_at < now - STALLED_AFTER),
        )
        .values(attempts=Delivery.attempts + 1, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # expires `delivery`: its attempts are read again
    return now if claimed.rowcount == 1 else None


def _leave_out(mailing_id: int, delivery_id: int) -> None:
    gone = db.session.execute(
        delete(Delivery).where(Delivery.id == delivery_id, Delivery.sent_at.is_(None))
    )
    if gone.rowcount == 1:  # counted once, whichever run of the mailing left her out
        db.session.execute(
            update(Mailing)
            .where(Mailing.id == mailing_id)
            .values(unsubscribed=Mailing.unsubscribed + 1, total=Mailing.total - 1)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def _finish(mailing: Mailing) -> None:
    unsent = select(func.count()).where(
        Delivery.mailing_id == mailing.id, Delivery.sent_at.is_(None)
    )
    retry_left = db.session.scalar(unsent.where(Delivery.attempts < MAX_ATTEMPTS))
    mailing.sent = db.session.scalar(
        select(func.count()).where(Delivery.mailing_id == mailing.id, Delivery.sent_at.is_not(None))
    )
    mailing.failed = db.session.scalar(unsent)
    if retry_left:
        db.session.commit()
        raise MailingIncomplete(f"{retry_left} message(s) to try again")
    mailing.status = MailingStatus.failed if mailing.failed else MailingStatus.done
    mailing.finished_at = utcnow()
    db.session.commit()


def _deliver(mailing: Mailing, submission: Submission, signature: Signature) -> None:
    """Compose and send one message (the one place that sends signers' mail here)."""
    appeal = submission.appeal
    stop = public_url_for("submissions.unsubscribe", token=unsubscribe_token(signature.id))
    with force_locale(appeal.language):
        if mailing.kind is MailingKind.notice:
            token = renew_withdraw_token(signature)
            db.session.flush()
            withdraw = public_url_for("signatures.withdraw", slug=appeal.slug, token=token)
            subject = _(
                "Your signature on “%(title)s” is about to be handed in", title=appeal.title
            )
            body = _(
                "The appeal “%(title)s” that you signed will be handed in to %(addressee)s in "
                "%(days)s day(s) or later.\n\nIf you do not want your name to go with it, "
                "withdraw your signature with this link before then (the link sent to you "
                "earlier no longer works):\n%(withdraw)s\n",
                title=appeal.title,
                addressee=submission.addressee,
                days=submission.notice_days,
                withdraw=withdraw,
            )
        else:
            subject = mailing.subject
            body = mailing.body + "\n"
        body += "\n-- \n" + _("To receive no more messages about this appeal: %(url)s", url=stop)
    send_mail(
        signature.email,
        subject,
        body,
        headers={
            "List-Unsubscribe": f"<{stop}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
