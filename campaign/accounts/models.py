"""Users, their membership of appeals, and invitations to join one."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.types import UTCDateTime


class Role(enum.Enum):
    """What a member may do on an appeal; each role includes the ones below it."""

    advocate = 1
    editor = 2
    owner = 3

    def includes(self, other: "Role") -> bool:
        """Return True when this role may do everything `other` may."""
        return self.value >= other.value


class User(UserMixin, db.Model):
    """An organiser, editor or advocate who logs in."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the owner of the address answered the mailed link; until then no one logs in.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An address the user asked to move to: it replaces `email` when the link mailed there is
    # followed (proof that the user reads it).
    pending_email: Mapped[str | None] = mapped_column(String(254))

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class AddressChange(db.Model):
    """An account's move to another address, which the address it left may undo for a while.

    Someone who learnt the password could move the account to an address of theirs: the old
    address is told, with a link that brings the account back and sets a new password. Once
    that link has expired, the next move or sign-up deletes the record (see
    operations.purge_address_changes). The address moved to is not kept: the link's page and
    mail do not tell it to whoever reads the old address.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    old_email: Mapped[str] = mapped_column(String(254))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Only a hash of the link's token, set when the link is mailed to the old address.
    undo_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Set when the link stopped working before its time: it was used, an earlier move was
    # undone, or the account moved back to the old address.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The address the account left when this change's own link undid it (told so).
    undone_from_email: Mapped[str | None] = mapped_column(String(254))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<AddressChange {self.id} user={self.user_id}>"


class Membership(db.Model):
    """A user's role on one appeal."""

    __table_args__ = (UniqueConstraint("appeal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")

    def __repr__(self) -> str:
        return f"<Membership appeal={self.appeal_id} user={self.user_id} {self.role.name}>"


class Invitation(db.Model):
    """A single-use link that makes whoever follows it a member with the given role."""

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role]
    # Only a hash of the token is stored: the link is shown once to the owner.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_pending(self) -> bool:
        """Return True while the invitation can still be accepted."""
        return self.used_at is None and self.revoked_at is None and self.expires_at > utcnow()

    def __repr__(self) -> str:
        return f"<Invitation {self.id} appeal={self.appeal_id} {self.role.name}>"
