"""Users, their membership of appeals, and invitations to join one."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.clock import utcnow
from campaign.crypto import SealedText
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
    # Two-step sign-in: the TOTP secret (base32) is set while being set up, and is in force
    # once two_factor_enabled_at is set; totp_last_step is the last time step a code was
    # accepted for, so that a code seen over her shoulder cannot be used again.
    # The shared secret of the authenticator app: whoever holds it makes valid codes.
    totp_secret: Mapped[str | None] = mapped_column(SealedText("user.totp_secret"))
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None]

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def two_factor_enabled(self) -> bool:
        """Return True when logging in asks for a code after the password."""
        return self.two_factor_enabled_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class LoginSession(db.Model):
    """A browser logged in to an account, known on the server so that it can be ended.

    The browser's signed cookie holds a random token; only its hash is kept here. Logging out,
    "log out" on the account page, the idle and the absolute lifetimes and a new password
    (`credential` no longer matches) each end it, in every process that shares the database.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The account's credential fingerprint when the session began (mailed_links).
    credential: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What the account page shows to tell sessions apart: the browser and the system named by
    # the user agent, and the first part of the address (never the whole of it).
    browser: Mapped[str] = mapped_column(String(50), default="")
    system: Mapped[str] = mapped_column(String(50), default="")
    network: Mapped[str] = mapped_column(String(64), default="")

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}>"


class RecoveryCode(db.Model):
    """A single-use code that replaces the authenticator app once; only its hash is kept."""

    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id}>"


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
