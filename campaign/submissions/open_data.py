"""What anyone may know of an appeal's submissions: the timeline, the JSON facts, the list of
listed appeals. Only dates, bodies, channels, public registration numbers and public answers:
nothing a member typed as private, and nothing of a signer."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from campaign.appeals.models import Appeal, AppealStatus
from campaign.appeals.operations import region_counts, signature_counts
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus
from campaign.submissions.models import Answer, AnswerKind, Submission
from campaign.submissions.operations import appeal_submissions, submission_clock, submission_status
from campaign.time_zones import today_in


@dataclass(frozen=True)
class Step:
    """One step of the public timeline."""

    what: str  # submitted, registered, due, answered, forwarded
    on: date
    addressee: str
    pending: bool = False  # a due date still ahead
    registration_number: str = ""  # only when the organisers made it public
    answer: Answer | None = None  # only a public answer
    extra: dict[str, Any] = field(default_factory=dict)


def _shown(submission: Submission) -> bool:
    # A submission not yet sent (the signers' notice period) is not announced.
    return submission.sent_on is not None


def timeline(appeal: Appeal) -> list[Step]:
    """The appeal's public timeline, in the order things happened."""
    steps: list[Step] = []
    today = today_in(appeal.time_zone)
    for submission in appeal_submissions(appeal):
        if not _shown(submission):
            continue
        number = submission.registration_number if submission.registration_public else ""
        steps.append(Step("submitted", submission.sent_on, submission.addressee))
        if submission.registered_on:
            steps.append(
                Step(
                    "registered",
                    submission.registered_on,
                    submission.addressee,
                    registration_number=number,
                )
            )
        answer = submission.answer
        clock = submission_clock(submission)
        if answer is None and clock.next is not None:
            steps.append(
                Step(
                    "due",
                    clock.next.on,
                    submission.addressee,
                    pending=clock.next.on >= today,
                    extra={"what": clock.next.what, "source": clock.next.source},
                )
            )
        if answer is not None:
            what = "forwarded" if answer.kind is AnswerKind.forwarded else "answered"
            forwarded_to = submission.hops[0].addressee if submission.hops else ""
            steps.append(
                Step(
                    what,
                    answer.answered_on,
                    submission.addressee,
                    answer=answer if answer.public else None,
                    extra={"kind": answer.kind.value, "forwarded_to": forwarded_to},
                )
            )
    return sorted(steps, key=lambda step: (step.on, step.pending))


def submission_facts(appeal: Appeal) -> list[dict[str, Any]]:
    """The appeal's submissions as open data, ISO dates."""
    today = today_in(appeal.time_zone)
    facts = []
    for submission in appeal_submissions(appeal):
        if not _shown(submission):
            continue
        clock = submission_clock(submission)
        answer = submission.answer
        item: dict[str, Any] = {
            "addressee": submission.addressee,
            "channel": submission.channel.value,
            "sent_on": _iso(submission.sent_on),
            "registered_on": _iso(submission.registered_on),
            "answer_due": _iso(clock.answer.on if clock.answer else None),
            "answered_on": _iso(answer.answered_on if answer else None),
            "status": submission_status(submission, today),
            "forwarded_to": submission.hops[0].addressee if submission.hops else None,
        }
        if submission.registration_public and submission.registration_number:
            item["registration_number"] = submission.registration_number
        if answer is not None and answer.public:
            item["answer"] = {
                "kind": answer.kind.value,
                "summary": answer.summary,
                "body": answer.body,
            }
        facts.append(item)
    return facts


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def relationship_counts(appeal_id: int) -> dict[str, int]:
    """Counted signatures by the relationship signers gave (blank ones left out)."""
    rows = db.session.execute(
        select(Signature.relationship_, func.count())
        .where(Signature.appeal_id == appeal_id, Signature.status == SignatureStatus.valid)
        .where(Signature.relationship_ != "")
        .group_by(Signature.relationship_)
        .order_by(func.count().desc(), Signature.relationship_)
    )
    return {relationship: int(count) for relationship, count in rows}


def appeal_facts(appeal: Appeal) -> dict[str, Any]:
    """The public facts of one published appeal, for /a/<slug>.json."""
    return {
        "title": appeal.latest_version.title,
        "language": appeal.language,
        "status": appeal.status.value,
        "counts": {
            "total": signature_counts([appeal.id])[appeal.id],
            "by_region": dict(region_counts(appeal.id)),
            "by_relationship": relationship_counts(appeal.id),
        },
        "versions": [
            {
                "number": version.number,
                "fingerprint": version.fingerprint,
                "published_at": version.published_at.isoformat(),
            }
            for version in appeal.versions
        ],
        "submissions": submission_facts(appeal),
    }


@dataclass(frozen=True)
class ListedAppeal:
    """A published appeal its owners list on the home page."""

    appeal: Appeal
    count: int
    latest: Step | None


def listed_appeals() -> list[ListedAppeal]:
    """The listed, published appeals, the latest published first."""
    appeals = db.session.scalars(
        select(Appeal)
        .where(Appeal.listed.is_(True), Appeal.status != AppealStatus.draft)
        .options(selectinload(Appeal.versions))
        .order_by(Appeal.created_at.desc(), Appeal.id.desc())
    ).all()
    appeals = [appeal for appeal in appeals if appeal.latest_version is not None]
    counts = signature_counts([appeal.id for appeal in appeals])
    listed = []
    for appeal in appeals:
        done = [step for step in timeline(appeal) if not step.pending]
        listed.append(ListedAppeal(appeal, counts[appeal.id], done[-1] if done else None))
    return listed
