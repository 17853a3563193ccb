"""How long signers' private details are kept after an appeal ends, and erasing them.

Private details: email, phone, postal address, the helper's name, the drawn signature, the
answers to private questions (with the keyed hashes made from the contacts), the scans of signed
paper sheets (signatures in ink, often addresses) and the signers' mail not sent yet; and,
through `erasing_private_data`, what the parts built on signatures keep of them (the files of
dossiers never handed in). Counts, public names, regions, public answers, the dossiers handed
in and every dossier's fingerprints stay.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from blinker import Namespace, Signal
from flask import current_app
from sqlalchemy import ColumnElement, delete, func, or_, select, update

from campaign.appeals.models import Appeal, AppealStatus
from campaign.audit.models import AuditEvent
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.database import after_commit
from campaign.extensions import db
from campaign.file_changes import remove_files
from campaign.mail_queue import forget_appeal_mail
from campaign.signatures.models import (
    CustomQuestion,
    Signature,
    SignatureAnswer,
    SignatureImage,
)
from campaign.signatures.paper import scan_files, stored_scans
from campaign.time_zones import end_of_day

_signals = Namespace()
# Sent with appeal_id= once an erasure is committed, for whatever else keeps copies (the
# dossier's cache of rendered blocks).
private_data_erased = _signals.signal("private-data-erased")
# For what the parts built on signatures keep of signers' private details, sent with appeal_id=
# while some signature or scan holds any (what was made after an erasure holds none): each
# receiver returns how many items it holds (counting) or has taken (erasing, inside the
# erasure's transaction: rows flushed, files removed once it commits, with after_commit).
counting_private_data = _signals.signal("counting-private-data")
erasing_private_data = _signals.signal("erasing-private-data")


def _elsewhere(signal: Signal, appeal_id: int, *, held: bool) -> int:
    if not held:
        return 0
    return sum(int(found) for _receiver, found in signal.send(signal, appeal_id=appeal_id))


def retention_months() -> int:
    """How many months after its end an appeal's private details are kept (the setting)."""
    return int(current_app.config["PRIVATE_DATA_RETENTION_MONTHS"])


def appeal_end(appeal: Appeal) -> datetime | None:
    """Return when the appeal ended for its private details; None while it takes signatures
    or is a draft.

    It stopped taking signatures when it was closed or its deadline's last day was over in its
    time zone, whichever came first; but a dossier handed in to an authority later keeps the
    details until then (the authority may answer, forward it or ask), so the end is the last
    day a submission was sent, if that is later. The one place that says it.
    """
    if appeal.status is AppealStatus.draft:
        return None
    ends = []
    if appeal.status is AppealStatus.closed and appeal.closed_at is not None:
        ends.append(appeal.closed_at)
    if appeal.deadline is not None:
        after_deadline = end_of_day(appeal.deadline, appeal.time_zone)
        if after_deadline <= utcnow():
            ends.append(after_deadline)
    if not ends:
        return None
    last_sent = _last_submission_sent(appeal)
    if last_sent is not None:
        return max(min(ends), end_of_day(last_sent, appeal.time_zone))
    return min(ends)


def _last_submission_sent(appeal: Appeal) -> date | None:
    from campaign.submissions.models import Submission  # submissions build on signatures

    return db.session.scalar(
        select(func.max(func.coalesce(Submission.sent_on, Submission.received_on))).where(
            Submission.appeal_id == appeal.id
        )
    )


def private_data_expiry(end: datetime) -> datetime:
    """Return when the private details of an appeal that ended at `end` are erased:
    PRIVATE_DATA_RETENTION_MONTHS calendar months later (the last day of a shorter month)."""
    months = end.month - 1 + retention_months()
    year, month = end.year + months // 12, months % 12 + 1
    return end.replace(
        year=year, month=month, day=min(end.day, calendar.monthrange(year, month)[1])
    )


def erasure_due(appeal: Appeal) -> datetime | None:
    """Return when the appeal's private details are due to be erased; None while it runs."""
    end = appeal_end(appeal)
    return None if end is None else private_data_expiry(end)


@dataclass(frozen=True)
class PrivateDetails:
    """How many signatures of an appeal still hold each kind of private detail, how many sheets
    have a scan, and how many dossier files never handed in hold them."""

    signatures: int = 0  # with any of them
    contacts: int = 0  # an email or a phone
    addresses: int = 0
    helpers: int = 0
    images: int = 0
    private_answers: int = 0
    scans: int = 0
    dossiers: int = 0  # files of dossiers with private details, never handed in

    @property
    def any(self) -> bool:
        """Whether anything is left to erase."""
        return bool(self.signatures or self.scans or self.dossiers)


def _holds_private(appeal_id: int) -> ColumnElement[bool]:
    private_questions = select(CustomQuestion.id).where(
        CustomQuestion.appeal_id == appeal_id, CustomQuestion.private.is_(True)
    )
    return or_(
        Signature.email.is_not(None),
        Signature.phone.is_not(None),
        Signature.postal_address.is_not(None),
        Signature.helper_name.is_not(None),
        Signature.email_hash.is_not(None),
        Signature.phone_hash.is_not(None),
        Signature.id.in_(select(SignatureImage.signature_id)),
        Signature.id.in_(
            select(SignatureAnswer.signature_id).where(
                SignatureAnswer.question_id.in_(private_questions)
            )
        ),
    )


def private_details(appeal_id: int) -> PrivateDetails:
    """Count what an erasure of the appeal's private details would erase."""
    of_appeal = Signature.appeal_id == appeal_id
    counted = db.session.execute(
        select(
            func.count(Signature.id).filter(_holds_private(appeal_id)),
            func.count(Signature.id).filter(
                or_(Signature.email.is_not(None), Signature.phone.is_not(None))
            ),
            func.count(Signature.postal_address),
            func.count(Signature.helper_name),
        ).where(of_appeal)
    ).one()
    images = db.session.scalar(
        select(func.count())
        .select_from(SignatureImage)
        .join(Signature, Signature.id == SignatureImage.signature_id)
        .where(of_appeal)
    )
    answers = db.session.scalar(
        select(func.count())
        .select_from(SignatureAnswer)
        .join(CustomQuestion, CustomQuestion.id == SignatureAnswer.question_id)
        .where(CustomQuestion.appeal_id == appeal_id, CustomQuestion.private.is_(True))
    )
    scans = len(stored_scans(appeal_id))
    return PrivateDetails(
        *counted,
        images=images or 0,
        private_answers=answers or 0,
        scans=scans,
        dossiers=_elsewhere(counting_private_data, appeal_id, held=bool(counted[0] or scans)),
    )


@dataclass(frozen=True)
class Erased:
    """What an erasure took: the signatures that held private details, the sheets' scans, the
    signers' mail not sent yet, and the files of dossiers never handed in."""

    signatures: int = 0
    scans: int = 0
    mails: int = 0
    dossiers: int = 0

    def __bool__(self) -> bool:
        return bool(self.signatures or self.scans or self.mails or self.dossiers)


def erase_private_data(appeal: Appeal, *, reason: str, actor_id: int | None = None) -> Erased:
    """Erase the private details of every signature of the appeal, the scans of its signed
    sheets, its signers' mail not sent yet (a dead letter holds her address and links) and what
    `erasing_private_data`'s receivers keep; return what held any (nothing: nothing done,
    nothing recorded).

    Audited as "appeal.private_data_erased" with the counts and the reason ("retention" or
    "owner"). Flushes, never commits; once committed, the scans' files are deleted (a file the
    disk keeps is logged, and the next erasure takes it) and private_data_erased is sent.
    """
    affected = db.session.scalar(
        select(func.count(Signature.id)).where(
            Signature.appeal_id == appeal.id, _holds_private(appeal.id)
        )
    )
    files = scan_files(appeal.id)
    if files:
        # Leftovers of a change cut off by a crash go too, whether or not a scan is stored.
        after_commit(partial(remove_files, files))
    scans = len(stored_scans(appeal.id))
    erased = Erased(
        signatures=affected or 0,
        scans=scans,
        mails=forget_appeal_mail(appeal.id),
        dossiers=_elsewhere(erasing_private_data, appeal.id, held=bool(affected or scans)),
    )
    if not erased:
        return erased
    of_appeal = select(Signature.id).where(Signature.appeal_id == appeal.id)
    private_questions = select(CustomQuestion.id).where(
        CustomQuestion.appeal_id == appeal.id, CustomQuestion.private.is_(True)
    )
    for statement in (
        update(Signature)
        .where(Signature.appeal_id == appeal.id)
        .values(
            email=None,
            phone=None,
            postal_address=None,
            helper_name=None,
            email_hash=None,
            phone_hash=None,
        ),
        delete(SignatureImage).where(SignatureImage.signature_id.in_(of_appeal)),
        delete(SignatureAnswer).where(SignatureAnswer.question_id.in_(private_questions)),
    ):
        db.session.execute(statement, execution_options={"synchronize_session": False})
    db.session.expire_all()
    record_event(
        appeal.id,
        "appeal.private_data_erased",
        subject=("appeal", appeal.id),
        actor_id=actor_id,
        signatures=erased.signatures,
        scans=erased.scans,
        mails=erased.mails,
        dossiers=erased.dossiers,
        reason=reason,
    )
    db.session.flush()
    after_commit(partial(private_data_erased.send, erase_private_data, appeal_id=appeal.id))
    return erased


def last_erasure(appeal_id: int) -> datetime | None:
    """Return when the appeal's private details were last erased (its audit log says it);
    None if they never were. A signature given before then holds none of them any more."""
    return db.session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            AuditEvent.appeal_id == appeal_id,
            AuditEvent.action == "appeal.private_data_erased",
        )
    )


def appeals_due_for_erasure(now: datetime | None = None) -> list[Appeal]:
    """Return the appeals whose retention time is over (whether or not anything is left)."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Appeal)
        .where(
            Appeal.status != AppealStatus.draft,
            or_(Appeal.closed_at.is_not(None), Appeal.deadline.is_not(None)),
        )
        .order_by(Appeal.id)
    )
    return [appeal for appeal in candidates if (due := erasure_due(appeal)) and due <= now]
