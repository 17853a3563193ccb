"""One row per audited action on an appeal."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, ForeignKey, Index, String, event, false
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from campaign.accounts.models import User
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
    # The member who acted has since deleted her account (actor_id is None then).
    actor_deleted: Mapped[bool] = mapped_column(default=False, server_default=false())
    via: Mapped[str] = mapped_column(String(8))  # "web", "cli", "task" or "signer"
    action: Mapped[str] = mapped_column(String(48))
    subject_type: Mapped[str] = mapped_column(String(24), default="")
    subject_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} appeal={self.appeal_id} {self.action}>"


@event.listens_for(User, "before_delete")
def _mark_a_deleted_actor(_mapper: Mapper[User], connection: Connection, user: User) -> None:
    """A deleted account's events say so, once the foreign key has forgotten who it was."""
    table = AuditEvent.__table__
    connection.execute(table.update().where(table.c.actor_id == user.id).values(actor_deleted=True))
