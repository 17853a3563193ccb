"""Signatures, their images and answers, and what an appeal asks of its signatories."""

import enum
import hashlib
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    false,
    insert,
    inspect,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from campaign.clock import utcnow
from campaign.crypto import SealedBytes, SealedText
from campaign.extensions import db
from campaign.signatures.names import fold_name
from campaign.types import UTCDateTime


class FieldMode(enum.Enum):
    """Whether the sign form asks for a field."""

    off = "off"
    optional = "optional"
    required = "required"


class SignatureStatus(enum.Enum):
    """Where a signature stands; only valid ones are counted and shown."""

    pending = "pending"  # waiting for the emailed confirmation
    valid = "valid"
    flagged = "flagged"  # set aside by an organiser for review (signatures.moderation)
    rejected = "rejected"  # refused by an organiser, with a reason; restorable
    withdrawn = "withdrawn"


class SignatureSource(enum.Enum):
    """Where a signature was given: on the sign form, or in ink on a collection sheet."""

    online = "online"
    paper = "paper"  # entered or imported on the desk (signatures.paper, signatures.importing)


class Display(enum.Enum):
    """How a signatory appears in the public list."""

    full = "full"
    initials = "initials"
    hidden = "hidden"


class QuestionKind(enum.Enum):
    """The kinds of custom question."""

    text = "text"
    choice = "choice"
    number = "number"


class SignFormSettings(db.Model):
    """What an appeal's sign form asks; one row per appeal, created with defaults."""

    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("appeal.id", ondelete="CASCADE"), primary_key=True
    )
    # Built-in field name -> FieldMode value; see signatures.fields.BUILT_IN_FIELDS.
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    # ISO 3166-2 codes offered, or None for every subdivision of the appeal's country.
    regions: Mapped[list[str] | None] = mapped_column(JSON)
    relationships: Mapped[list[str]] = mapped_column(JSON)
    confirm_email: Mapped[bool] = mapped_column(default=False)
    # Empty means the default consent text of the appeal's language.
    consent_text: Mapped[str] = mapped_column(Text, default="")
    # Goes up by one with every save (0: the defaults, never saved). A save from a page that
    # showed an older revision is refused, not written over a co-organiser's.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")

    questions: Mapped[list["CustomQuestion"]] = relationship(
        order_by="CustomQuestion.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<SignFormSettings appeal={self.appeal_id}>"


class CustomQuestion(db.Model):
    """A question an organiser adds to the sign form."""

    __table_args__ = (UniqueConstraint("appeal_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(
        ForeignKey("sign_form_settings.appeal_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(300))
    kind: Mapped[QuestionKind]
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    private: Mapped[bool] = mapped_column(default=False)
    required: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<CustomQuestion {self.id} {self.kind.value}>"


class Signature(db.Model):
    """One signatory's signature on an appeal, given on one published version."""

    __table_args__ = (
        # One signature per contact and name per appeal (contacts.py); withdrawing clears the
        # hashes.
        UniqueConstraint("appeal_id", "email_hash"),
        UniqueConstraint("appeal_id", "phone_hash"),
        # The public list: latest valid signatures of an appeal, keyset-paginated.
        Index("ix_signature_appeal_list", "appeal_id", "status", "created_at", "id"),
        # A new signature's family: the signers who named the same relative (families.py).
        Index("ix_signature_relative_key", "appeal_id", "relative_key"),
        # The desk's list (signatures.listing): newest or oldest first, or by surname. The
        # search key is in both, so that a search reads the index alone until a page is found
        # (measured at 100,000: a two-word search 220 ms -> 78 ms on SQLite, loaded machine).
        Index("ix_signature_appeal_created", "appeal_id", "created_at", "id", "name_key"),
        Index("ix_signature_appeal_surname", "appeal_id", "surname", "id", "name_key"),
        # A scan of a signed sheet finds its rows (signatures.paper).
        Index("ix_signature_appeal_sheet", "appeal_id", "sheet"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("appeal_version.id"))
    status: Mapped[SignatureStatus]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Paper signatures count like online ones; `sheet` and `line` say where the ink is.
    source: Mapped[SignatureSource] = mapped_column(
        default=SignatureSource.online, server_default=SignatureSource.online.value
    )
    sheet: Mapped[int | None]
    line: Mapped[int | None]

    # Public unless the signatory chose otherwise (display).
    surname: Mapped[str] = mapped_column(String(100), default="")
    given_name: Mapped[str] = mapped_column(String(100), default="")
    patronymic: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(12), default="")  # ISO 3166-2 code or "other"
    region_other: Mapped[str] = mapped_column(String(100), default="")
    town: Mapped[str] = mapped_column(String(100), default="")
    relationship_: Mapped[str] = mapped_column("relationship", String(100), default="")
    relative_name: Mapped[str] = mapped_column(String(200), default="")
    relative_location: Mapped[str] = mapped_column(String(200), default="")
    children: Mapped[int | None]
    display: Mapped[Display] = mapped_column(default=Display.full)
    # She ticked "also show publicly" her relationship and her relative's name, place and
    # children (signatures.audience); otherwise the public sees her family only as counts.
    relative_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    typed_signature: Mapped[str] = mapped_column(String(200), default="")

    # Private: never on a public page, in a URL, a log line or the public dossier; sealed at
    # rest (campaign.crypto), so never compared in SQL; erased when the appeal's retention
    # ends (signatures.retention).
    email: Mapped[str | None] = mapped_column(SealedText("signature.email"))
    phone: Mapped[str | None] = mapped_column(SealedText("signature.phone"))
    postal_address: Mapped[str | None] = mapped_column(SealedText("signature.postal_address"))
    # Who filled the form in on her behalf; None when she did it herself.
    helper_name: Mapped[str | None] = mapped_column(SealedText("signature.helper_name"))
    # Keyed hashes of the normalised contacts with the signer's name (contacts.py), for "one
    # signature per person".
    email_hash: Mapped[str | None] = mapped_column(String(64))
    phone_hash: Mapped[str | None] = mapped_column(String(64))

    consent_text: Mapped[str] = mapped_column(Text, default="")
    # She asked to be told by email when the authority answers (campaign.submissions.updates).
    hear_of_answer: Mapped[bool] = mapped_column(default=False, server_default=false())
    # She followed the unsubscribe link of a message about the appeal: no more of them.
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdraw_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The hash of the digest of the form that stored it (signatures.form_stamps.submission_digest):
    # the same form sent again finds this signature instead of storing a second one.
    submission_hash: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)

    # Moderation (signatures.moderation). `revision` goes up with every organiser's change: a
    # change made from a page that showed an older revision is refused, not applied unseen.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    moderation_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Rejected as a duplicate of this signature.
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("signature.id", ondelete="SET NULL"), index=True
    )

    # Her family (signatures.families): the person concerned her relative_name names, found by
    # relative_key, that name folded (names.fold_name). `person_concerned_fixed`: an organiser
    # put her there (a merge or a split), and recomputing the families keeps her there.
    relative_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    person_concerned_id: Mapped[int | None] = mapped_column(
        ForeignKey("person_concerned.id", ondelete="SET NULL"), index=True
    )
    person_concerned_fixed: Mapped[bool] = mapped_column(default=False, server_default=false())

    # Surname, given name and patronymic folded (names.fold_name), kept in step by the
    # listeners below: the desk's search ("naloeva" finds Налоева). Emptied with the name.
    name_key: Mapped[str] = mapped_column(String(320), default="", server_default="")

    image: Mapped["SignatureImage | None"] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    answers: Mapped[list["SignatureAnswer"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Signature {self.id} appeal={self.appeal_id} {self.status.value}>"


@event.listens_for(Signature, "before_insert")
@event.listens_for(Signature, "before_update")
def _fold_the_name(_mapper: object, _connection: object, signature: Signature) -> None:
    # Every way a signature is stored or changed (the sign form, the desk, an import, a
    # withdrawal that empties the name) keeps its search key in step.
    signature.name_key = fold_name(
        signature.surname or "", signature.given_name or "", signature.patronymic or ""
    )[:320]


class SignatureNameWord(db.Model):
    """One word of a signature's search key (name_key), for the desk's search by the start of
    a word: an index finds "nal" among 100,000 names, where `name_key LIKE '% nal%'` reads
    every one (signatures.name_words)."""

    appeal_id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(64), primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signature.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    def __repr__(self) -> str:
        return f"<SignatureNameWord {self.word!r} of {self.signature_id}>"


def name_words(key: str) -> set[str]:
    """The words of a search key, as SignatureNameWord keeps them."""
    return {word[:64] for word in key.split()}


@event.listens_for(Signature, "after_insert")
def _index_the_name(_mapper: object, connection: Connection, signature: Signature) -> None:
    # In the same flush as the row: the words never disagree with the key. Bulk inserts
    # (Core, no events) call signatures.name_words.index_new_signatures instead.
    rows = [
        {"appeal_id": signature.appeal_id, "word": word, "signature_id": signature.id}
        for word in name_words(signature.name_key)
    ]
    if rows:
        connection.execute(insert(SignatureNameWord.__table__), rows)


@event.listens_for(Signature, "after_update")
def _index_the_name_again(mapper: object, connection: Connection, signature: Signature) -> None:
    if inspect(signature).attrs.name_key.history.unchanged:
        return
    words = SignatureNameWord.__table__
    connection.execute(delete(words).where(words.c.signature_id == signature.id))
    _index_the_name(mapper, connection, signature)


def png_fingerprint(png: bytes) -> str:
    """The SHA-256 of a drawn signature's PNG, as stored beside it and listed in a dossier."""
    return hashlib.sha256(png).hexdigest()


class SignatureImage(db.Model):
    """The drawn signature, re-encoded as PNG (sealed at rest); kept apart so signature rows
    stay narrow."""

    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signature.id", ondelete="CASCADE"), primary_key=True
    )
    png: Mapped[bytes] = mapped_column(SealedBytes("signature_image.png"))
    # The PNG's SHA-256 (hex), as the authority's dossier lists it beside her row: a dossier
    # rendered again finds it here instead of opening every drawing (issue 22). Not sealed: a
    # fingerprint tells nothing of the drawing. Set whenever png is; a Core insert gives both.
    png_sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]

    @validates("png")
    def _fingerprint(self, _key: str, png: bytes) -> bytes:
        self.png_sha256 = png_fingerprint(png)
        return png

    def __repr__(self) -> str:
        return f"<SignatureImage {self.signature_id} {self.width}x{self.height}>"


class SignatureAnswer(db.Model):
    """A signatory's answer to a custom question (every answer sealed at rest: a question may
    be private, and a private question's answers stay private)."""

    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signature.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("custom_question.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(SealedText("signature_answer.value"))

    def __repr__(self) -> str:
        return f"<SignatureAnswer {self.signature_id}/{self.question_id}>"


class PersonConcerned(db.Model):
    """A relative the appeal is about (a detainee); her family is the signers linked to her.

    No name is kept here: what she is called, where she is held and with how many children is
    what her family's signers gave (signatures.families), so that a withdrawal erases it.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<PersonConcerned {self.id} appeal={self.appeal_id}>"


class DistinctPair(db.Model):
    """Two signatures an organiser marked as different people: never offered as duplicates.

    The lower id is `first_id`, so that a pair has one row whichever way it was shown.
    """

    __table_args__ = (
        UniqueConstraint("first_id", "second_id"),
        CheckConstraint("first_id < second_id", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("signature.id", ondelete="CASCADE"))
    second_id: Mapped[int] = mapped_column(
        ForeignKey("signature.id", ondelete="CASCADE"), index=True
    )
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<DistinctPair {self.first_id}/{self.second_id}>"


class WithdrawalDecoy(db.Model):
    """The withdrawal link a repeated signing is shown: it behaves as a new signature's does.

    A repeat (her name with a contact that signed already) stores no signature, and her page
    and its link must look as if it did: a link that led nowhere would tell whoever typed
    someone's name and number that she had signed. It opens the same page, "withdraws" once,
    and expires as an unconfirmed signature would (signatures.decoys).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # As a signature's confirm_expires_at: when the form asks for confirmation, none otherwise.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<WithdrawalDecoy {self.id} appeal={self.appeal_id}>"
