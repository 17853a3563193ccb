"""A submission of a dossier snapshot to an authority, its answer, and the scans of both."""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.appeals.models import Appeal
from campaign.clock import utcnow
from campaign.dossiers.models import DossierSnapshot
from campaign.extensions import db
from campaign.types import UTCDateTime


class Channel(enum.Enum):
    """How a dossier was handed in."""

    post = "post"  # with a tracking number
    in_person = "in_person"  # at a reception office, with the stamped copy
    online = "online"  # the authority's online reception
    email = "email"  # plain e-mail (not considered in Russia since 2025-03-30)
    other = "other"


class AnswerKind(enum.Enum):
    """What the authority's answer did."""

    answered = "answered"
    partly = "partly"
    refused = "refused"
    forwarded = "forwarded"  # sent on to another body: the next hop has its own clock


class ScanKind(enum.Enum):
    """What a scanned file shows."""

    receipt = "receipt"  # a stamped copy, a postal receipt, a portal's confirmation
    answer = "answer"


class Submission(db.Model):
    """One hand-in of a dossier snapshot to one addressee; a forwarded copy is a child hop."""

    __table_args__ = (
        CheckConstraint("notice_days BETWEEN 0 AND 7", name="notice_days_range"),
        CheckConstraint("extension_days BETWEEN 0 AND 30", name="extension_days_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    # No ondelete: a snapshot that was handed in is never deleted on its own (NO ACTION is
    # checked at the end of the statement, so deleting the whole appeal still cascades).
    snapshot_id: Mapped[str] = mapped_column(ForeignKey("dossier_snapshot.id"), index=True)
    # The body that forwarded the appeal here (its answer of kind "forwarded").
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    addressee: Mapped[str] = mapped_column(String(500))
    channel: Mapped[Channel]
    # Post: the tracking number; in person: the office. Members only.
    channel_detail: Mapped[str] = mapped_column(String(200), default="")
    sent_on: Mapped[date | None]
    received_on: Mapped[date | None]
    registration_number: Mapped[str] = mapped_column(String(100), default="")
    registered_on: Mapped[date | None]
    # Shown on the public timeline, the JSON and /verify only when the organisers say so.
    registration_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The authority's notice of a longer term (59-FZ art. 12 p. 2).
    extension_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # Days the signers who left an email are given, after the notice, before it is sent.
    notice_days: Mapped[int] = mapped_column(default=0, server_default="0")
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The organiser's own text of the follow-up letter (Markdown), kept between drafts.
    followup_template: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(default=0, server_default="0")

    appeal: Mapped[Appeal] = relationship()
    snapshot: Mapped[DossierSnapshot] = relationship()
    parent: Mapped["Submission | None"] = relationship(remote_side=[id], back_populates="hops")
    hops: Mapped[list["Submission"]] = relationship(
        back_populates="parent", cascade="all, delete-orphan", order_by="Submission.id"
    )
    answer: Mapped["Answer | None"] = relationship(
        back_populates="submission", cascade="all, delete-orphan", uselist=False
    )
    scans: Mapped[list["Scan"]] = relationship(
        cascade="all, delete-orphan", order_by="Scan.id", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Submission {self.id} appeal={self.appeal_id} {self.channel.value}>"


class Answer(db.Model):
    """The authority's answer to one submission; it stops that submission's clock."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[AnswerKind]
    answered_on: Mapped[date]
    outgoing_number: Mapped[str] = mapped_column(String(100), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # Public answers are shown, summary and body, on the appeal's page and in its JSON.
    public: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    submission: Mapped[Submission] = relationship(back_populates="answer")

    def __repr__(self) -> str:
        return f"<Answer {self.id} to submission {self.submission_id} {self.kind.value}>"


class Scan(db.Model):
    """A scanned receipt or answer: a PDF, JPEG or PNG checked by content, kept 0600 under
    instance/, served only to members."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ScanKind]
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Relative to SUBMISSION_SCANS_DIR; random, never the uploaded name.
    filename: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<Scan {self.id} of submission {self.submission_id} {self.kind.value}>"


class MailingKind(enum.Enum):
    """What a mailing to the signers says."""

    notice = "notice"  # before a submission: where her name goes and when, her withdrawal link
    update = "update"  # after an answer: the organiser's subject and text


class MailingStatus(enum.Enum):
    """Where a mailing stands."""

    queued = "queued"
    sending = "sending"
    done = "done"  # every recipient has her message, or was left out for a reason counted
    failed = "failed"  # some messages could not be sent after every retry (counted)


class Mailing(db.Model):
    """A message to the signers about a submission, sent on the task queue."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MailingKind]
    # The page's one-time key: the same form sent twice (a double click) finds this mailing.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, the organiser's
    status: Mapped[MailingStatus] = mapped_column(default=MailingStatus.queued)
    total: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    unsubscribed: Mapped[int] = mapped_column(default=0)  # left out: they asked to hear no more
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Mailing {self.id} {self.kind.value} {self.status.value}>"


class Delivery(db.Model):
    """One recipient of a mailing: sent once, however often the job runs."""

    __table_args__ = (UniqueConstraint("mailing_id", "signature_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailing.id", ondelete="CASCADE"))
    # Indexed for deleting signatures: see migration 0025.
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signature.id", ondelete="CASCADE"), index=True
    )
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Tries made, the one under way included.
    attempts: Mapped[int] = mapped_column(default=0)
    # When a run of the mailing took this message to send it (None once that try failed): a
    # second run leaves it alone, unless the claim is older than mailings.STALLED_AFTER.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Delivery {self.id} of mailing {self.mailing_id}>"
