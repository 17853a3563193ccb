"""The organisers' form for the sign form's settings."""

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.forms import LinesAtMost, RevisionField, no_hidden_characters, normalised
from campaign.signatures.fields import BUILT_IN_FIELDS
from campaign.signatures.models import FieldMode, QuestionKind, SignFormSettings
from campaign.signatures.operations import confirmation_days
from campaign.signatures.settings import QuestionData, SettingsData, chosen_mode

RELATIONSHIP_MAX = 100  # the column's length
FIELD_MODE_CHOICES = [
    SelectChoice(FieldMode.off.value, _l("Not asked")),
    SelectChoice(FieldMode.optional.value, _l("Optional")),
    SelectChoice(FieldMode.required.value, _l("Required")),
]
QUESTION_KIND_CHOICES = [
    SelectChoice(QuestionKind.text.value, _l("Short text")),
    SelectChoice(QuestionKind.choice.value, _l("Choice")),
    SelectChoice(QuestionKind.number.value, _l("Number")),
]


class QuestionForm(Form):
    """One custom question; a row with an empty label is dropped."""

    question_id = HiddenField()
    label = StringField(
        _l("Question"),
        filters=[normalised],
        validators=[
            Length(max=300, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    kind = SelectField(_l("Kind of answer"), choices=QUESTION_KIND_CHOICES, default="text")
    choices = TextAreaField(
        _l("Choices, one per line"),
        filters=[normalised],
        validators=[
            Length(max=3000, message=_l("Use at most %(max)d characters.")),
            LinesAtMost(200),
            no_hidden_characters,
        ],
    )
    private = BooleanField(_l("Private"))
    required = BooleanField(_l("Required"))

    def validate_choices(self, field: Field) -> None:
        """A choice question needs at least two choices."""
        is_choice = self.label.data and self.kind.data == QuestionKind.choice.value
        choices = [line for line in (field.data or "").split("\n") if line.strip()]
        if is_choice and len(choices) < 2:
            raise ValidationError(_l("Give at least two choices, one per line."))


def settings_form_class(region_codes: list[tuple[str, str]]) -> type[FlaskForm]:
    """Build the settings form, with one mode selector per built-in field."""
    attributes: dict[str, Any] = {
        f"mode_{name}": SelectField(label, choices=FIELD_MODE_CHOICES)
        for name, label in BUILT_IN_FIELDS.items()
    }
    attributes["mode_email"] = SelectField(
        BUILT_IN_FIELDS["email"],
        choices=FIELD_MODE_CHOICES,
        description=_l(
            "Required while signatures count only once confirmed by email; this choice "
            "applies again when they need not be."
        ),
    )
    attributes["regions"] = SelectMultipleField(
        _l("Regions offered"),
        description=_l(
            "Tick none to offer every region of the country. “Elsewhere” is always offered."
        ),
        choices=[SelectChoice(code, name) for code, name in region_codes],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    attributes["relationships"] = TextAreaField(
        _l("Relationships offered, one per line"),
        filters=[normalised],
        validators=[
            DataRequired(_l("Give at least one relationship.")),
            Length(max=3000, message=_l("Use at most %(max)d characters.")),
            LinesAtMost(RELATIONSHIP_MAX),
            no_hidden_characters,
        ],
    )
    attributes["questions"] = FieldList(FormField(QuestionForm), min_entries=1, max_entries=20)
    attributes["add_question"] = SubmitField(_l("Add a question"))
    attributes["confirm_email"] = BooleanField(
        _l("Signatures count only once confirmed by email"),
        description=lazy_ngettext(
            "The signer follows a link sent to her address within %(num)d day. Email becomes "
            "required.",
            "The signer follows a link sent to her address within %(num)d days. Email becomes "
            "required.",
            confirmation_days(),
        ),
    )
    attributes["consent_text"] = TextAreaField(
        _l("Consent text"),
        description=_l("Left empty, the default text in the appeal's language is used."),
        filters=[normalised],
        validators=[
            Length(max=3000, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    attributes["submit"] = SubmitField(_l("Save settings"))
    attributes["revision"] = RevisionField()
    return type("SettingsForm", (FlaskForm,), attributes)


def fill_settings_form(form: FlaskForm, settings: SignFormSettings) -> None:
    """Show the stored settings in the settings form, with one blank question row."""
    for name in BUILT_IN_FIELDS:
        form[f"mode_{name}"].data = chosen_mode(settings, name).value
    form.regions.data = settings.regions or []
    form.relationships.data = "\n".join(settings.relationships)
    form.confirm_email.data = settings.confirm_email
    form.consent_text.data = settings.consent_text
    form.revision.data = settings.revision or 0
    while form.questions.entries:
        form.questions.pop_entry()
    for question in settings.questions:
        form.questions.append_entry(
            {
                "question_id": question.id,
                "label": question.label,
                "kind": question.kind.value,
                "choices": "\n".join(question.choices),
                "private": question.private,
                "required": question.required,
            }
        )
    form.questions.append_entry()


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").split("\n") if line.strip()]


def settings_data(form: FlaskForm) -> SettingsData:
    """Return what the settings form says as operation input."""
    return SettingsData(
        modes={name: FieldMode(form[f"mode_{name}"].data) for name in BUILT_IN_FIELDS},
        regions=list(form.regions.data or []) or None,
        relationships=_lines(form.relationships.data),
        confirm_email=form.confirm_email.data,
        consent_text=form.consent_text.data or "",
        questions=[
            QuestionData(
                label=entry.form.label.data,
                kind=entry.form.kind.data,
                choices=_lines(entry.form.choices.data),
                private=entry.form.private.data,
                required=entry.form.required.data,
                id=int(entry.form.question_id.data)
                if (entry.form.question_id.data or "").isdigit()
                else None,
            )
            for entry in form.questions.entries
            if entry.form.label.data
        ],
    )
