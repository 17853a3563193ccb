"""Handing a submission in: "Record as sent" waits until the signers who left an email were
told (every message of the notice gone out, its period over), and until the dossier chosen
holds no signer who withdrew after it was made."""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select

from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.dossiers.models import DossierSnapshot
from campaign.extensions import db
from campaign.signatures.signer_links import withdrawn_since
from campaign.submissions.models import Submission
from campaign.submissions.operations import SubmissionRefused, unfinished_notice
from campaign.time_zones import today_in


def notice_open_on(submission: Submission) -> datetime | None:
    """When "record as sent" opens: the notice's time plus the notice period (None: no notice
    is needed, or it was not sent yet)."""
    if submission.notice_sent_at is None:
        return None
    return submission.notice_sent_at + timedelta(days=submission.notice_days)


def may_record_as_sent(submission: Submission) -> bool:
    """True when the notice has gone out to everyone and its period has passed (or none was
    asked for)."""
    if unfinished_notice(submission) is not None:
        return False
    if submission.notice_days == 0:
        return True
    opens = notice_open_on(submission)
    return opens is not None and utcnow() >= opens


def withdrawn_since_snapshot(submission: Submission) -> int:
    """How many signers counted in the submission's dossier have withdrawn since it was made."""
    made = db.session.scalar(
        select(DossierSnapshot.created_at).where(DossierSnapshot.id == submission.snapshot_id)
    )
    return 0 if made is None else withdrawn_since(submission.appeal_id, made)


def record_as_sent(submission: Submission) -> None:
    """Date the hand-in today, once the signers' notice period is over and the dossier holds
    no one who withdrew."""
    if submission.sent_on is not None:
        return
    if unfinished_notice(submission) is not None:
        raise SubmissionRefused(
            "sent_on", _l("The notice is still being sent to the signers: wait before sending.")
        )
    if not may_record_as_sent(submission):
        raise SubmissionRefused(
            "sent_on", _l("The signers' notice period is not over yet: wait before sending.")
        )
    withdrawn = withdrawn_since_snapshot(submission)
    if withdrawn:
        raise SubmissionRefused(
            "snapshot_id",
            lazy_ngettext(
                "%(num)d signer withdrew after this dossier was made: make a new dossier and "
                "choose it for this submission before sending it.",
                "%(num)d signers withdrew after this dossier was made: make a new dossier and "
                "choose it for this submission before sending it.",
                withdrawn,
            ),
        )
    submission.sent_on = today_in(submission.appeal.time_zone)
    submission.revision += 1
    db.session.flush()
    record_event(submission.appeal_id, "submission.updated", subject=("submission", submission.id))
