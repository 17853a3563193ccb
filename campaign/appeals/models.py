"""An appeal, its draft addressees, and the versions frozen when it is published."""

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.accounts.models import Membership
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.types import UTCDateTime


class AppealStatus(enum.Enum):
    """Where an appeal is in its life."""

    draft = "draft"
    open = "open"
    closed = "closed"


class Appeal(db.Model):
    """An open letter or petition; its text here is the draft of the next version."""

    __table_args__ = (CheckConstraint("goal IS NULL OR goal > 0", name="goal_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[AppealStatus] = mapped_column(default=AppealStatus.draft)
    language: Mapped[str] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(2), default="RU")
    # IANA name: the day signatures are dated and the deadline ends (campaign.time_zones).
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    closing: Mapped[str] = mapped_column(Text, default="")
    # The representative receives the authority's reply; private to the organisers.
    representative_name: Mapped[str] = mapped_column(String(200), default="")
    representative_address: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[int | None]
    deadline: Mapped[date | None]
    # Goes up by one with every saved change of the draft. An editor saves, and anyone
    # publishes, the draft as it was when their page showed it: a change saved by someone else
    # in between is refused, not overwritten or published unseen.
    draft_revision: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by an owner: every member logs in with a second step to reach the appeal's pages.
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set by an owner: the home page and /a.json list the appeal once it is published.
    listed: Mapped[bool] = mapped_column(default=False, server_default=false())

    addressees: Mapped[list["Addressee"]] = relationship(
        order_by="Addressee.position", cascade="all, delete-orphan"
    )
    versions: Mapped[list["AppealVersion"]] = relationship(
        order_by="AppealVersion.number", back_populates="appeal", cascade="all, delete-orphan"
    )
    memberships: Mapped[list[Membership]] = relationship(cascade="all, delete-orphan")
    former_addresses: Mapped[list["FormerAddress"]] = relationship(cascade="all, delete-orphan")

    @property
    def latest_version(self) -> "AppealVersion | None":
        """Return the version the public sees, or None while unpublished."""
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<Appeal {self.id} {self.slug!r} {self.status.value}>"


class FormerAddress(db.Model):
    """An address a published appeal had before: it still leads there, and no other appeal takes it.

    Posters, QR codes and shared links carry the address; once out, it must never lead to
    someone else's appeal.
    """

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<FormerAddress {self.slug!r} of appeal {self.appeal_id}>"


class Addressee(db.Model):
    """Someone the draft letter is addressed to, in order."""

    __table_args__ = (UniqueConstraint("appeal_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    office: Mapped[str] = mapped_column(String(300), default="")

    def __repr__(self) -> str:
        return f"<Addressee {self.position} of appeal {self.appeal_id}>"


class AppealVersion(db.Model):
    """The letter as frozen at publishing; signatures belong to the version they were given on."""

    __table_args__ = (UniqueConstraint("appeal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    addressees: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)
    closing: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    appeal: Mapped[Appeal] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<AppealVersion {self.appeal_id}#{self.number} {self.fingerprint[:12]}>"


class SignatureTally(db.Model):
    """One of several counters of an appeal's counted signatures from one region.

    Signing adds to a random shard, so concurrent signers do not queue on one hot row, and the
    total (or the breakdown by region) is a sum over a handful of rows rather than a count over
    every signature.
    """

    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(12), primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<SignatureTally {self.appeal_id}/{self.region}/{self.shard} {self.count}>"
