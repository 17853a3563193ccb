"""Sign an appeal (the rules of who may sign, and how often); the public list.

What her mailed links do afterwards (confirm, withdraw) is signatures.signer_links."""

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from campaign.appeals.models import Appeal, AppealStatus
from campaign.appeals.operations import count_signature
from campaign.clock import utcnow
from campaign.database import lock_row, savepoint
from campaign.extensions import db
from campaign.link_tokens import new_token, token_hash
from campaign.signatures.contacts import contact_hash, email_identity, name_identity
from campaign.signatures.families import place_in_family
from campaign.signatures.images import CleanImage
from campaign.signatures.models import (
    CustomQuestion,
    Display,
    Signature,
    SignatureAnswer,
    SignatureImage,
    SignatureStatus,
)
from campaign.signatures.names import fold_name
from campaign.signatures.signed_contacts import contact_has_signed, signed_before
from campaign.signatures.signer_links import tally_region
from campaign.time_zones import today_in


class AppealNotOpen(Exception):
    """The appeal does not accept signatures (draft, closed or past its deadline)."""


class FormChanged(Exception):
    """The signature could not be stored as sent, and not because she had signed: the form's
    questions changed meanwhile (one was removed, or one she answered in private was made
    public). Nothing was stored."""


@dataclass
class SignData:
    """What a signatory gave, already checked for shape by the form."""

    surname: str
    given_name: str
    patronymic: str = ""
    region: str = ""
    region_other: str = ""
    town: str = ""
    relationship: str = ""
    relative_name: str = ""
    relative_location: str = ""
    children: int | None = None
    email: str = ""
    hear_of_answer: bool = False  # mail her when the authority answers (needs the email)
    phone: str = ""  # E.164
    postal_address: str = ""
    image: CleanImage | None = None
    typed_signature: str = ""
    helper_name: str = ""
    display: Display = Display.initials
    relative_public: bool = False  # the separate "also show publicly" of her relative's details
    answers: dict[int, str] = field(default_factory=dict)
    # The questions her form showed as private: her answers to them must stay private.
    private_questions: frozenset[int] = frozenset()


@dataclass(frozen=True)
class RenewedLinks:
    """New links of a signature still waiting for its confirmation, and the address it gave."""

    confirm_token: str
    withdraw_token: str
    email: str


@dataclass(frozen=True)
class SignOutcome:
    """What signing produced. A duplicate looks the same to the signer as a new signature.

    `replayed`: the same form had been sent before, and `signature` is what it stored.
    `renewed`: a duplicate of a signature still waiting for its confirmation, which was given
    new links for the address it gave only (not the one just typed, which may differ in a
    way the duplicate check folds); the page shows neither.
    `signed_with`: for a duplicate found by its email address, the address that signature
    gave, the only one told that she had signed (one found by its phone number tells no one:
    whoever typed that number and a name may not be her); `signed_id`, that signature's id.
    """

    signature: Signature | None
    withdraw_token: str
    confirm_token: str | None
    duplicate: bool
    replayed: bool = False
    renewed: RenewedLinks | None = None
    signed_with: str | None = None
    signed_id: int | None = None


# How long after signing the same form sent again shows her withdrawal link again.
REPLAY_WINDOW = timedelta(minutes=5)


def confirmation_days() -> int:
    """How many days a signer has to confirm, as pages and mails say it (whole days)."""
    return max(1, current_app.config["CONFIRMATION_LIFETIME"].days)


def _submission_hash(submission: str) -> str:
    return token_hash(f"submission:{submission}")


def _withdraw_token_for(submission: str) -> str:
    # Derived, so that the answer to the same form sent again can show the same link; the
    # digest covers the stamp's random part, and the key is not in the database.
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, f"signature-withdraw:{submission}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def accepting_signatures(appeal: Appeal) -> bool:
    """Return True when the appeal is open, published and before its deadline."""
    return (
        appeal.status is AppealStatus.open
        and appeal.latest_version is not None
        and (appeal.deadline is None or appeal.deadline >= today_in(appeal.time_zone))
    )


def _still_accepting(appeal_id: int) -> bool:
    """Read the appeal's state again, as committed now, and keep it so until this commits.

    PostgreSQL: a shared lock, which closing the appeal waits for (signers do not wait for each
    other). SQLite: this transaction writes already, so it reads the last commit, and no other
    can commit before it does.
    """
    row = db.session.execute(
        select(Appeal.status, Appeal.deadline, Appeal.time_zone)
        .where(Appeal.id == appeal_id)
        .with_for_update(read=True)
    ).one_or_none()
    return (
        row is not None
        and row.status is AppealStatus.open
        and (row.deadline is None or row.deadline >= today_in(row.time_zone))
    )


def _made_public_meanwhile(data: SignData) -> bool:
    """Whether a question she answered as private is public now (read after her answers are
    written: on PostgreSQL their foreign keys wait for a settings save that holds the
    questions, see save_sign_form_settings)."""
    answered = [
        qid for qid, value in data.answers.items() if value and qid in data.private_questions
    ]
    if not answered:
        return False
    public = select(CustomQuestion.id).where(
        CustomQuestion.id.in_(answered), CustomQuestion.private.is_(False)
    )
    return db.session.scalar(public.limit(1)) is not None


def sign_appeal(
    appeal: Appeal,
    data: SignData,
    *,
    consent: str,
    confirm_within: timedelta | None,
    submission: str | None = None,
) -> SignOutcome:
    """Record a signature on the latest version; the same name with a contact that signed
    already stores nothing (contacts.py).

    With confirm_within, the signature waits for its emailed link (valid that long) and is not
    counted meanwhile; the same address signing again while it waits gets new links (the
    outcome's `renewed`: the first mail may be lost).

    `submission` is the digest of the form sent (signatures.form_stamps.submission_digest): the same
    form sent again, even at the same moment, stores nothing and gets the signature it stored
    (see find_submitted).
    """
    if not accepting_signatures(appeal):
        raise AppealNotOpen
    if submission is None:
        withdraw_token, withdraw_hash = new_token()
    else:
        withdraw_token = _withdraw_token_for(submission)
        withdraw_hash = token_hash(withdraw_token)
    name = name_identity(data.surname, data.given_name, data.patronymic)
    email_hash = contact_hash("email", email_identity(data.email), name) if data.email else None
    phone_hash = contact_hash("phone", data.phone, name) if data.phone else None
    if signed_before(appeal.id, email_hash, phone_hash):
        return _not_stored(appeal.id, submission, withdraw_token, email_hash, confirm_within)

    confirm = confirm_within is not None
    confirm_token, confirm_hash = new_token() if confirm else (None, None)
    now = utcnow()
    signature = Signature(
        appeal_id=appeal.id,
        version_id=appeal.latest_version.id,
        status=SignatureStatus.pending if confirm else SignatureStatus.valid,
        created_at=now,
        confirmed_at=None if confirm else now,
        surname=data.surname,
        given_name=data.given_name,
        patronymic=data.patronymic,
        region=data.region,
        region_other=data.region_other,
        town=data.town,
        relationship_=data.relationship,
        relative_name=data.relative_name,
        # Stored with her row, not updated after it (place_in_family sets the same).
        relative_key=fold_name(data.relative_name),
        relative_location=data.relative_location,
        children=data.children,
        helper_name=data.helper_name or None,
        display=data.display,
        relative_public=data.relative_public,
        typed_signature=data.typed_signature,
        email=data.email or None,
        hear_of_answer=data.hear_of_answer and bool(data.email),
        phone=data.phone or None,
        postal_address=data.postal_address or None,
        email_hash=email_hash,
        phone_hash=phone_hash,
        consent_text=consent,
        consent_at=now,
        withdraw_token_hash=withdraw_hash,
        confirm_token_hash=confirm_hash,
        confirm_expires_at=now + confirm_within if confirm_within else None,
        submission_hash=_submission_hash(submission) if submission else None,
    )
    if data.image is not None:
        signature.image = SignatureImage(
            png=data.image.png, width=data.image.width, height=data.image.height
        )
    signature.answers = [
        SignatureAnswer(question_id=qid, value=value)
        for qid, value in data.answers.items()
        if value
    ]
    try:
        # A savepoint: a concurrent signer with the same contact loses here, not the transaction.
        with savepoint():
            db.session.add(signature)
            db.session.flush()
            if not _still_accepting(appeal.id):  # closed meanwhile: the savepoint goes
                raise AppealNotOpen
            if _made_public_meanwhile(data):
                raise FormChanged
    except IntegrityError:
        # Her contact and name, or this very form, signed at the same moment: a duplicate.
        # Anything else (a question removed meanwhile) must not pass for one.
        sent_before = submission is not None and find_submitted(appeal.id, submission)
        if not (sent_before or contact_has_signed(appeal.id, email_hash, phone_hash)):
            raise FormChanged from None
        return _not_stored(appeal.id, submission, withdraw_token, email_hash, confirm_within)
    place_in_family(signature)
    if not confirm:
        count_signature(appeal.id, tally_region(signature), +1)
    return SignOutcome(signature, withdraw_token, confirm_token, duplicate=False)


def _not_stored(
    appeal_id: int,
    submission: str | None,
    withdraw_token: str,
    email_hash: str | None,
    confirm_within: timedelta | None,
) -> SignOutcome:
    # Her contact has signed already: by this very form, sent before (or at the same moment),
    # or by another one.
    earlier = find_submitted(appeal_id, submission) if submission else None
    if earlier is not None:
        return earlier
    renewed = found = None
    if email_hash is not None and confirm_within is not None:
        renewed = _confirm_again(appeal_id, email_hash, confirm_within)
    if email_hash is not None and renewed is None:
        found = db.session.execute(
            select(Signature.id, Signature.email).where(
                Signature.appeal_id == appeal_id, Signature.email_hash == email_hash
            )
        ).first()
    return SignOutcome(
        None,
        withdraw_token,
        None,
        duplicate=True,
        renewed=renewed,
        signed_with=found.email if found else None,
        signed_id=found.id if found else None,
    )


def _confirm_again(
    appeal_id: int, email_hash: str, confirm_within: timedelta
) -> RenewedLinks | None:
    """Give her signature still waiting for its confirmation new links (confirmation,
    withdrawal); None if none waits.

    Only a signature found by its email address: the links go to that mailbox. Those mailed
    before stop working.
    """
    signature = db.session.scalar(
        select(Signature).where(
            Signature.appeal_id == appeal_id,
            Signature.email_hash == email_hash,
            Signature.status == SignatureStatus.pending,
            Signature.confirm_expires_at >= utcnow(),
        )
    )
    # Held, so that a confirmation under way is not given a new link after it.
    if signature is None or not lock_row(signature):
        return None
    if signature.status is not SignatureStatus.pending or not signature.email:
        return None
    confirm_token, signature.confirm_token_hash = new_token()
    withdraw_token, signature.withdraw_token_hash = new_token()
    signature.confirm_expires_at = utcnow() + confirm_within
    db.session.flush()
    return RenewedLinks(confirm_token, withdraw_token, signature.email)


def find_submitted(appeal_id: int, submission: str) -> SignOutcome | None:
    """Return what this form (its digest), sent before, stored; None if it stored nothing.

    Within REPLAY_WINDOW of the signature the outcome carries its withdrawal link again (a
    retry, a second tap). Later it is a duplicate with a link that leads nowhere: the form sent
    again then is more likely Back on a phone a family shares, and whoever holds it must not
    get her link. A withdrawn signature forgets its form, so sending that form again signs anew.
    """
    signature = db.session.scalar(
        select(Signature).where(
            Signature.appeal_id == appeal_id,
            Signature.submission_hash == _submission_hash(submission),
        )
    )
    if signature is None:
        return None
    if utcnow() - signature.created_at > REPLAY_WINDOW:
        return SignOutcome(signature, new_token()[0], None, duplicate=True, replayed=True)
    return SignOutcome(
        signature, _withdraw_token_for(submission), None, duplicate=False, replayed=True
    )


def public_signatures(
    appeal_id: int, limit: int, before: tuple[datetime, int] | None = None
) -> list[Signature]:
    """Return the latest valid signatures shown in the public list, older than `before`."""
    query = select(Signature).where(
        Signature.appeal_id == appeal_id,
        Signature.status == SignatureStatus.valid,
        Signature.display != Display.hidden,
    )
    if before is not None:
        query = query.where(tuple_(Signature.created_at, Signature.id) < tuple_(*before))
    query = query.order_by(Signature.created_at.desc(), Signature.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def signature_ids_at(appeal_id: int, moment: datetime) -> list[int]:
    """Return the ids of the appeal's signatures made at that very moment (for a list cursor)."""
    query = select(Signature.id).where(
        Signature.appeal_id == appeal_id, Signature.created_at == moment
    )
    return list(db.session.scalars(query.limit(50)))
