"""One row per audited action on an appeal."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.types import UTCDateTime


class AuditEvent(db.Model):
    """Something a member (or the command line, or a job) did to an appeal.

    `action` is one of campaign.audit.actions.ACTIONS; `details` holds only ids, counts and
    codes (record_event refuses free text), so that the log never repeats a signer's data.
    """

    __table_args__ = (
        # The owner's page: an appeal's events, newest first, keyset-paginated.
        Index("ix_audit_event_appeal_list", "appeal_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # None when no member acted: the command line, a queued job, a signer's own withdrawal.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    via: Mapped[str] = mapped_column(String(8))  # "web", "cli" or "task"
    action: Mapped[str] = mapped_column(String(48))
    subject_type: Mapped[str] = mapped_column(String(24), default="")
    subject_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} appeal={self.appeal_id} {self.action}>"
