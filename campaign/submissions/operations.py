"""Record submissions, their answers and scans; find what is due across an organiser's appeals."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campaign.accounts.models import Membership, User
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.dossiers.models import DossierSnapshot
from campaign.extensions import db
from campaign.file_changes import FileChange
from campaign.submissions.clock import SOON_DAYS, Clock, Due, clock_for
from campaign.submissions.models import (
    Answer,
    AnswerKind,
    Channel,
    Mailing,
    MailingKind,
    MailingStatus,
    Scan,
    ScanKind,
    Submission,
)
from campaign.submissions.scans import check_scan, discard_scan, store_scan
from campaign.time_zones import today_in


class SubmissionRefused(ValueError):
    """Input that breaks a rule of submissions; `field` names the form field to mark."""

    def __init__(self, field: str, message: LazyString) -> None:
        super().__init__(field)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SubmissionData:
    """What an organiser records about a hand-in."""

    snapshot_id: str | None
    addressee: str
    channel: Channel
    channel_detail: str = ""
    sent_on: date | None = None
    received_on: date | None = None
    registration_number: str = ""
    registered_on: date | None = None
    registration_public: bool = False
    extension_days: int = 0
    notice_days: int = 0


@dataclass(frozen=True)
class AnswerData:
    """What an organiser records about an answer."""

    kind: AnswerKind
    answered_on: date
    outgoing_number: str = ""
    summary: str = ""
    body: str = ""
    public: bool = False
    forwarded_to: str = ""  # the body the appeal was sent on to, for a "forwarded" answer


def _check_dates(data: SubmissionData, today: date) -> None:
    for name, value in (
        ("sent_on", data.sent_on),
        ("received_on", data.received_on),
        ("registered_on", data.registered_on),
    ):
        if value is not None and value > today:
            raise SubmissionRefused(name, _l("This date is in the future."))
    if data.received_on and data.sent_on and data.received_on < data.sent_on:
        raise SubmissionRefused(
            "received_on", _l("It cannot have been received before it was sent.")
        )
    if data.registered_on:
        start = data.received_on or data.sent_on
        if start and data.registered_on < start:
            raise SubmissionRefused(
                "registered_on", _l("It cannot have been registered before it was received.")
            )
    if data.registration_number and data.registered_on is None:
        raise SubmissionRefused("registered_on", _l("Give the date of the registration."))


def _snapshot(appeal: Appeal, snapshot_id: str | None) -> DossierSnapshot:
    snapshot = db.session.get(DossierSnapshot, snapshot_id) if snapshot_id else None
    if snapshot is None or snapshot.appeal_id != appeal.id:
        raise SubmissionRefused("snapshot_id", _l("Choose the dossier that was handed in."))
    return snapshot


def _apply(submission: Submission, data: SubmissionData) -> None:
    submission.addressee = data.addressee
    submission.channel = data.channel
    submission.channel_detail = data.channel_detail
    submission.sent_on = data.sent_on
    submission.received_on = data.received_on
    submission.registration_number = data.registration_number
    submission.registered_on = data.registered_on
    submission.registration_public = data.registration_public
    submission.extension_days = data.extension_days
    submission.notice_days = data.notice_days


def unfinished_notice(submission: Submission) -> Mailing | None:
    """The submission's latest notice to the signers if it is still being sent."""
    latest = db.session.scalar(
        select(Mailing)
        .where(Mailing.submission_id == submission.id, Mailing.kind == MailingKind.notice)
        .order_by(Mailing.id.desc())
        .limit(1)
    )
    if latest is None or latest.status not in (MailingStatus.queued, MailingStatus.sending):
        return None
    return latest


def _check_notice(data: SubmissionData, submission: Submission | None) -> None:
    """A hand-in with a notice period is dated only once the signers were told (every
    message gone out) and the period has passed ("record as sent" on the desk)."""
    if data.sent_on is None:
        return
    if submission is not None and submission.sent_on is not None:
        return  # already sent: correcting its date
    sending = submission is not None and unfinished_notice(submission) is not None
    if not data.notice_days and not sending:
        return
    told = submission.notice_sent_at if submission is not None else None
    if sending or told is None or utcnow() < told + timedelta(days=data.notice_days):
        raise SubmissionRefused(
            "sent_on",
            _l("Leave this empty until the signers were told and the notice period is over."),
        )


def record_submission(appeal: Appeal, data: SubmissionData, by: User) -> Submission:
    """Record a hand-in of one of the appeal's snapshots; nothing is stored if a rule fails."""
    snapshot = _snapshot(appeal, data.snapshot_id)
    _check_dates(data, today_in(appeal.time_zone))
    _check_notice(data, None)
    submission = Submission(appeal_id=appeal.id, snapshot_id=snapshot.id, created_by_id=by.id)
    _apply(submission, data)
    db.session.add(submission)
    db.session.flush()
    record_event(
        appeal.id,
        "submission.recorded",
        subject=("submission", submission.id),
        channel=data.channel.value,
    )
    return submission


def update_submission(submission: Submission, data: SubmissionData) -> None:
    """Change what was recorded (the registration, entered later, most often)."""
    appeal = submission.appeal
    if submission.parent_id is None:
        submission.snapshot_id = _snapshot(appeal, data.snapshot_id).id
    _check_dates(data, today_in(appeal.time_zone))
    _check_notice(data, submission)
    answer = submission.answer
    if answer is not None and data.sent_on and answer.answered_on < data.sent_on:
        raise SubmissionRefused("sent_on", _l("The answer is dated before this date."))
    _apply(submission, data)
    submission.revision += 1
    db.session.flush()
    record_event(
        appeal.id,
        "submission.updated",
        subject=("submission", submission.id),
        registered=data.registered_on is not None,
        extension_days=data.extension_days,
    )


def record_answer(submission: Submission, data: AnswerData, by: User) -> Answer:
    """Record the answer, which stops the clock; "forwarded" opens the next hop's clock."""
    appeal = submission.appeal
    if data.answered_on > today_in(appeal.time_zone):
        raise SubmissionRefused("answered_on", _l("This date is in the future."))
    start = submission.registered_on or submission.received_on or submission.sent_on
    if start and data.answered_on < start:
        raise SubmissionRefused(
            "answered_on", _l("The answer cannot be dated before the submission.")
        )
    if data.kind is AnswerKind.forwarded and not data.forwarded_to:
        raise SubmissionRefused("forwarded_to", _l("Name the body it was forwarded to."))
    answer = submission.answer
    if answer is None:
        answer = Answer(submission_id=submission.id, created_by_id=by.id)
        submission.answer = answer
    answer.kind = data.kind
    answer.answered_on = data.answered_on
    answer.outgoing_number = data.outgoing_number
    answer.summary = data.summary
    answer.body = data.body
    answer.public = data.public
    db.session.flush()
    hop = None
    if data.kind is AnswerKind.forwarded and not submission.hops:
        hop = Submission(
            appeal_id=appeal.id,
            snapshot_id=submission.snapshot_id,
            parent_id=submission.id,
            addressee=data.forwarded_to,
            channel=Channel.other,
            sent_on=data.answered_on,
            created_by_id=by.id,
        )
        db.session.add(hop)
        db.session.flush()
    record_event(
        appeal.id,
        "submission.answered",
        subject=("submission", submission.id),
        kind=data.kind.value,
        public=data.public,
        next_hop=hop.id if hop else None,
    )
    return answer


def delete_submission(submission: Submission) -> FileChange:
    """Delete a submission with its hops, answers and scans. The caller commits with the
    returned change (`commit_with`), which deletes the scans' files; raise OSError, with
    nothing changed, if the disk refuses."""
    change = FileChange()
    try:
        for scan in _all_scans(submission):
            discard_scan(scan.filename, change)
        record_event(
            submission.appeal_id, "submission.deleted", subject=("submission", submission.id)
        )
        db.session.delete(submission)
        db.session.flush()
    except BaseException:
        change.undo()
        raise
    return change


def _all_scans(submission: Submission) -> list[Scan]:
    scans = list(submission.scans)
    for hop in submission.hops:
        scans.extend(_all_scans(hop))
    return scans


def add_scan(
    submission: Submission, kind: ScanKind, name: str, data: bytes, by: User
) -> FileChange:
    """Check and store a scanned receipt or answer (scans.ScanRefused when it is not one;
    OSError, with nothing stored, if the disk refuses). The caller commits with the returned
    change (`commit_with`), which removes the file if the commit fails."""
    media_type = check_scan(name, data)
    change = FileChange()
    filename, sha256 = store_scan(data, media_type, change)
    try:
        scan = Scan(
            submission_id=submission.id,
            kind=kind,
            media_type=media_type,
            size=len(data),
            sha256=sha256,
            filename=filename,
            created_by_id=by.id,
        )
        db.session.add(scan)
        db.session.flush()
        record_event(
            submission.appeal_id,
            "submission.scan_added",
            subject=("scan", scan.id),
            submission=submission.id,
            kind=kind.value,
            size=len(data),
        )
    except BaseException:
        change.undo()
        raise
    return change


def submission_clock(submission: Submission) -> Clock:
    """The statutory clock of one submission, by the appeal's country."""
    return clock_for(
        submission.appeal.country,
        received_on=submission.received_on,
        registered_on=submission.registered_on,
        extension_days=submission.extension_days,
        answered=submission.answer is not None,
    )


def submission_status(submission: Submission, today: date) -> str:
    """One word for where a submission stands (also the JSON's "status")."""
    if submission.answer is not None:
        return submission.answer.kind.value
    running = submission_clock(submission).next
    if running is not None and running.overdue(today):
        return "overdue"
    if submission.registered_on is not None:
        return "extended" if submission.extension_days else "registered"
    if submission.sent_on is None:
        return "planned"
    return "sent"


def appeal_submissions(appeal: Appeal) -> list[Submission]:
    """The appeal's submissions in order, each forwarded hop after the one it came from."""
    rows = db.session.scalars(
        select(Submission)
        .where(Submission.appeal_id == appeal.id)
        .options(selectinload(Submission.answer), selectinload(Submission.scans))
        .order_by(Submission.id)
    ).all()
    children: dict[int | None, list[Submission]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    ordered: list[Submission] = []

    def walk(parent: int | None) -> None:
        for row in children.get(parent, []):
            ordered.append(row)
            walk(row.id)

    walk(None)
    return ordered


@dataclass(frozen=True)
class DueItem:
    """A submission whose clock has run out or soon will."""

    submission: Submission
    due: Due
    days_left: int
    today: date  # in the appeal's time zone


def due_submissions(user: User, soon_days: int = SOON_DAYS) -> list[DueItem]:
    """Every unanswered submission of the user's appeals that is overdue or due within
    soon_days, the most urgent first."""
    rows = db.session.scalars(
        select(Submission)
        .join(Membership, Membership.appeal_id == Submission.appeal_id)
        .where(Membership.user_id == user.id)
        .options(selectinload(Submission.answer), selectinload(Submission.appeal))
    ).all()
    items = []
    for submission in rows:
        running = submission_clock(submission).next
        if running is None:
            continue
        today = today_in(submission.appeal.time_zone)
        left = running.days_left(today)
        if left <= soon_days:
            items.append(DueItem(submission, running, left, today))
    return sorted(items, key=lambda item: (item.days_left, item.submission.id))
