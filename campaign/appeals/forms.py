"""Forms for writing an appeal and managing its members."""

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from campaign.accounts.models import Role
from campaign.appeals.operations import (
    SLUG_MAX,
    SLUG_MIN,
    AddresseeData,
    AppealData,
    slug_is_valid,
)
from campaign.forms import RevisionField, no_hidden_characters, normalised, printable
from campaign.i18n import country_choices
from campaign.markup import loses_text_to_nesting
from campaign.time_zones import default_zone, is_zone_of, today_in, zone_choices, zones_of

MAX_ADDRESSEES = 20
LANGUAGE_CHOICES = [SelectChoice("ru", _l("Russian")), SelectChoice("en", _l("English"))]
NESTED_TOO_DEEPLY = _l(
    "Quotes or lists in the letter are nested too deeply: the innermost would not appear on the "
    "page or in the dossier. Nest them less."
)
ROLE_LABELS = {Role.owner: _l("Owner"), Role.editor: _l("Editor"), Role.advocate: _l("Advocate")}


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def within_nesting(_form: Form, field: TextAreaField) -> None:
    """Refuse Markdown nested past what the renderer shows (the rest would silently vanish)."""
    if isinstance(field.data, str) and loses_text_to_nesting(field.data):
        raise ValidationError(NESTED_TOO_DEEPLY)


class AddresseeForm(Form):
    """One addressee: a person and their office."""

    name = StringField(
        _l("Name"),
        filters=[normalised],
        validators=[
            Length(max=200, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    office = StringField(
        _l("Office"),
        filters=[normalised],
        validators=[
            Length(max=300, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )

    def validate_office(self, field: StringField) -> None:
        """An office alone names nobody."""
        if field.data and not self.name.data:
            raise ValidationError(_l("Give the name of the person holding this office."))


class AppealForm(FlaskForm):
    """Everything an organiser writes about an appeal."""

    # Filled from the appeal on the edit page; a new appeal has none yet.
    draft_revision = RevisionField()

    title = StringField(
        _l("Title"),
        filters=[normalised],
        validators=[
            DataRequired(_l("Give the appeal a title.")),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
            printable,
        ],
    )
    slug = StringField(
        _l("Address"),
        description=_l(
            "Lower-case latin letters, digits and hyphens. Left empty, it is made from the title. "
            "Once the appeal is published, a former address keeps leading to it."
        ),
        filters=[_lower],
    )
    language = SelectField(_l("Language of the letter"), choices=LANGUAGE_CHOICES)
    country = SelectField(_l("Country"), default="RU")
    # Its choices follow the country; checked against the country sent with it.
    time_zone = SelectField(
        _l("Time zone"),
        description=_l("Signatures are dated, and the deadline ends, by its clock."),
        validate_choice=False,
    )
    addressees = FieldList(FormField(AddresseeForm), min_entries=1, max_entries=MAX_ADDRESSEES)
    body = TextAreaField(
        _l("Letter"),
        description=_l(
            "Markdown: blank lines between paragraphs, # for headings, - for lists, "
            "> for quotes, *emphasis*, [text](https://link)."
        ),
        filters=[normalised],
        validators=[
            Length(max=50_000, message=_l("The letter is too long: at most %(max)d characters.")),
            no_hidden_characters,
            printable,
            within_nesting,
        ],
    )
    closing = TextAreaField(
        _l("Closing line"),
        filters=[normalised],
        validators=[
            Length(max=1000, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
            printable,
        ],
    )
    representative_name = StringField(
        _l("Representative's name"),
        description=_l("Receives the reply. Shown to organisers only."),
        filters=[normalised],
        validators=[
            Length(max=200, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    representative_address = TextAreaField(
        _l("Representative's postal address"),
        filters=[normalised],
        validators=[
            Length(max=1000, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    goal = IntegerField(
        _l("Goal (number of signatures)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10_000_000, message=_l("Enter a whole number from 1 upwards.")),
        ],
    )
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    add_addressee = SubmitField(_l("Add an addressee"))
    submit = SubmitField(_l("Save draft"))

    def __init__(
        self,
        *args: Any,
        language: str,
        current_deadline: date | None = None,
        fixed_zone: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [
            SelectChoice(code, name) for code, name in country_choices(language)
        ]
        country = self.country.data or "RU"
        self.time_zone.choices = [
            SelectChoice(zone, name) for zone, name in zone_choices(country, language)
        ]
        if not self.time_zone.data:
            self.time_zone.data = default_zone(country)
        self._current_deadline = current_deadline
        self._fixed_zone = fixed_zone
        if fixed_zone:
            self.time_zone.description = _l(
                "Fixed once the appeal has signatures: their dates would change with it."
            )

    def validate_slug(self, field: StringField) -> None:
        """Check the shape of a typed address."""
        if field.data and not slug_is_valid(field.data):
            raise ValidationError(
                _l(
                    "Use %(min)d to %(max)d lower-case latin letters, digits and single hyphens.",
                    min=SLUG_MIN,
                    max=SLUG_MAX,
                )
            )

    def validate_time_zone(self, field: SelectField) -> None:
        """A zone of the country (or UTC); a country with one zone needs no choosing; the
        zone of an appeal with signatures stays as it is."""
        if self._fixed_zone:
            if field.data != self._fixed_zone:
                raise ValidationError(
                    _l("The time zone cannot change once the appeal has signatures.")
                )
            return
        country = self.country.data or ""
        if is_zone_of(field.data or "", country):
            return
        own = zones_of(country)
        if len(own) == 1:
            field.data = own[0]
            return
        raise ValidationError(_l("Choose one of the time zones of the appeal's country."))

    def validate_deadline(self, field: DateField) -> None:
        """A new deadline cannot be in the past (in the appeal's zone); an old one may stay."""
        zone = (
            self.time_zone.data
            if is_zone_of(self.time_zone.data or "", self.country.data or "")
            else "UTC"
        )
        past = field.data is not None and field.data < today_in(zone)
        if past and field.data != self._current_deadline:
            raise ValidationError(_l("The deadline cannot be in the past."))

    def validate_addressees(self, field: FieldList) -> None:
        """At least one addressee."""
        if not any(entry.form.name.data for entry in field.entries):
            raise ValidationError(_l("Name at least one addressee."))

    def to_data(self) -> AppealData:
        """Return what was typed as operation input."""
        return AppealData(
            title=self.title.data,
            slug=self.slug.data or "",
            language=self.language.data,
            country=self.country.data,
            time_zone=self.time_zone.data or "",
            addressees=tuple(
                AddresseeData(entry.form.name.data or "", entry.form.office.data or "")
                for entry in self.addressees.entries
            ),
            body=self.body.data or "",
            closing=self.closing.data or "",
            representative_name=self.representative_name.data or "",
            representative_address=self.representative_address.data or "",
            goal=self.goal.data,
            deadline=self.deadline.data,
        )


class ActionForm(FlaskForm):
    """A button that changes state (publish, close, reopen, remove, revoke)."""

    submit = SubmitField()


class PublishForm(ActionForm):
    """The publish button, with the revision of the draft that the page showed."""

    draft_revision = RevisionField()


class DeleteDraftForm(FlaskForm):
    """Confirm deleting a draft, as the page showed it."""

    draft_revision = RevisionField()
    submit = SubmitField(_l("Delete the draft"))


class InviteForm(FlaskForm):
    """Create an invitation link for a role."""

    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role.name, label) for role, label in ROLE_LABELS.items()],
        default=Role.editor.name,
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Create invitation link"))


class RoleForm(FlaskForm):
    """Change a member's role."""

    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role.name, label) for role, label in ROLE_LABELS.items()],
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Change"))


class TwoFactorRequirementForm(FlaskForm):
    """Whether every member must log in with two steps to open the appeal's pages."""

    required = BooleanField(_l("Every member must log in with two steps"))
    submit = SubmitField(_l("Save"))
