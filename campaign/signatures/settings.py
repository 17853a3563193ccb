"""The sign form's settings: which fields it asks, regions, relationships, consent, questions."""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import db
from campaign.signatures.fields import DEFAULT_CONSENT, DEFAULT_MODES, DEFAULT_RELATIONSHIPS
from campaign.signatures.models import (
    CustomQuestion,
    FieldMode,
    QuestionKind,
    SignatureAnswer,
    SignFormSettings,
)


@dataclass(frozen=True)
class QuestionData:
    """A custom question as the organiser wrote it; id is None for a new one."""

    label: str
    kind: str
    choices: list[str]
    private: bool
    required: bool
    id: int | None = None


class SettingsChanged(Exception):
    """Someone saved the sign form settings after the page the request came from showed them."""


class QuestionHasAnswers(Exception):
    """A question that signatories have answered cannot be removed."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


class AnswersStayPrivate(QuestionHasAnswers):
    """A private question that signatories have answered cannot be made public: they answered
    for the organisers only."""


@dataclass
class SettingsData:
    """What the organiser chose for the sign form."""

    modes: dict[str, FieldMode]
    regions: list[str] | None
    relationships: list[str]
    confirm_email: bool
    consent_text: str
    questions: list[QuestionData]


def sign_form_settings(appeal: Appeal) -> SignFormSettings:
    """Return the appeal's sign-form settings; defaults (not yet stored) until first saved."""
    settings = db.session.get(SignFormSettings, appeal.id)
    if settings is None:
        relationships = DEFAULT_RELATIONSHIPS.get(appeal.language, DEFAULT_RELATIONSHIPS["en"])
        settings = SignFormSettings(
            appeal_id=appeal.id,
            fields={name: mode.value for name, mode in DEFAULT_MODES.items()},
            regions=None,
            relationships=list(relationships),
            confirm_email=False,
            consent_text="",
            questions=[],
            revision=0,
        )
    return settings


def save_sign_form_settings(
    appeal: Appeal, data: SettingsData, *, seen_revision: int | None
) -> SignFormSettings:
    """Store what the sign form asks; an edited question keeps its id and its answers.

    Only over the revision the page showed: raise SettingsChanged when someone saved them
    since (the session then needs a rollback). Removing a question that has answers is
    refused: it would erase what signatories gave.
    """
    settings = db.session.get(SignFormSettings, appeal.id)
    if settings is None:
        if seen_revision != 0:
            raise SettingsChanged
        # The defaults stored first: the only conflict this insert can meet is the primary key
        # of another first save, committed meanwhile.
        settings = sign_form_settings(appeal)
        settings.revision = 1
        db.session.add(settings)
        try:
            db.session.flush()
        except IntegrityError:
            raise SettingsChanged from None
    else:
        # One conditional UPDATE holds the row: a concurrent save waits, then finds it moved.
        held = db.session.execute(
            update(SignFormSettings)
            .where(
                SignFormSettings.appeal_id == appeal.id,
                SignFormSettings.revision == seen_revision,
            )
            .values(revision=SignFormSettings.revision + 1)
            .execution_options(synchronize_session=False)
        )
        if held.rowcount != 1:
            raise SettingsChanged
        db.session.expire(settings)
    # The email's mode is stored as chosen, even while confirmation asks for the address
    # (field_mode): turning confirmation off gives back the organiser's own choice.
    settings.fields = {name: mode.value for name, mode in data.modes.items()}
    settings.regions = data.regions or None
    settings.relationships = data.relationships
    settings.confirm_email = data.confirm_email
    settings.consent_text = data.consent_text
    existing = {question.id: question for question in settings.questions}
    kept = []
    for position, item in enumerate(data.questions, 1):
        question = existing.pop(item.id, None) if item.id is not None else None
        making_public = question is not None and question.private and not item.private
        if making_public and _has_answers(_held(question).id):
            raise AnswersStayPrivate(question.label)
        question = question or CustomQuestion()
        question.label = item.label
        question.kind = QuestionKind(item.kind)
        question.choices = item.choices if question.kind is QuestionKind.choice else []
        question.private = item.private
        question.required = item.required
        question.position = -position  # moved out of the way first: positions are unique
        kept.append(question)
    for removed in existing.values():
        if _has_answers(_held(removed).id):
            raise QuestionHasAnswers(removed.label)
    settings.questions = kept
    db.session.flush()
    for position, question in enumerate(kept, 1):
        question.position = position
    record_event(appeal.id, "sign_form.saved", questions=len(kept))
    db.session.flush()
    return settings


def _held(question: CustomQuestion) -> CustomQuestion:
    """Lock a question's row before looking for its answers (PostgreSQL: FOR UPDATE, which a
    signer's answer, checking its foreign key, waits for; and which waits for an answer being
    written). SQLite: the settings' UPDATE already holds the database."""
    db.session.execute(
        select(CustomQuestion.id).where(CustomQuestion.id == question.id).with_for_update()
    )
    return question


def _has_answers(question_id: int) -> bool:
    answered = select(SignatureAnswer.question_id).where(SignatureAnswer.question_id == question_id)
    return db.session.scalar(answered.limit(1)) is not None


def chosen_mode(settings: SignFormSettings, name: str) -> FieldMode:
    """Return the mode the organiser chose for a built-in field (the settings page's)."""
    return FieldMode(settings.fields.get(name, DEFAULT_MODES[name].value))


def field_mode(settings: SignFormSettings, name: str) -> FieldMode:
    """Return how the form asks for a built-in field: as chosen, but the email is required
    while signatures count only once confirmed by email (the link goes to it)."""
    if name == "email" and settings.confirm_email:
        return FieldMode.required
    return chosen_mode(settings, name)


def consent_text(settings: SignFormSettings, language: str) -> str:
    """Return the consent text shown on the form."""
    return settings.consent_text or DEFAULT_CONSENT.get(language, DEFAULT_CONSENT["en"])
