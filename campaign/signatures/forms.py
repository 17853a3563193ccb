"""The sign form, built for each appeal from its settings; the confirm and withdraw buttons."""

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from campaign.appeals.models import Appeal
from campaign.email_addresses import normalise_email
from campaign.forms import (
    no_hidden_characters,
    normalised,
    printable,
    valid_email,
)
from campaign.security_log import log_security_event
from campaign.signatures.contacts import normalise_phone
from campaign.signatures.fields import BUILT_IN_FIELDS
from campaign.signatures.images import (
    DamagedPNG,
    InvalidImage,
    NotPNG,
    clean_png,
    decode_data_url,
    looks_like_png_data_url,
)
from campaign.signatures.models import Display, FieldMode, QuestionKind, SignFormSettings
from campaign.signatures.operations import SignData
from campaign.signatures.regions import OTHER, region_choices
from campaign.signatures.settings import field_mode

NAME_MAX = 100
DISPLAY_CHOICES = [
    SelectChoice(Display.full.value, _l("My full name and region")),
    SelectChoice(Display.initials.value, _l("My initials and region")),
    SelectChoice(Display.hidden.value, _l("Do not show me in the list")),
]

# The fields about her relative: the form offers to show them publicly only when it asks one.
RELATIVE_FIELDS = ("relative_name", "relative_location", "children")
RELATIVE_PUBLIC_LABEL = _l(
    "Also show publicly, with my name or initials: how I am related to the person concerned, "
    "their name, where they are held and the number of children with them"
)


def _text(label: Any, required: bool, max_length: int, message: Any = None) -> StringField:
    presence = DataRequired(message or _l("This field is required.")) if required else Optional()
    return StringField(
        label,
        filters=[normalised],
        validators=[
            presence,
            Length(max=max_length, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
            printable,
        ],
    )


class SignForm(FlaskForm):
    """Fields every sign form has; the rest are added per appeal by sign_form_class."""

    surname = _text(_l("Surname"), True, NAME_MAX, _l("Enter your surname."))
    given_name = _text(_l("Given name"), True, NAME_MAX, _l("Enter your given name."))
    on_behalf = BooleanField(_l("Someone else is filling in this form for the signer"))
    helper_name = _text(_l("Name of the person filling in the form"), False, 200)
    display = RadioField(
        _l("In the public list of signatories, show"),
        choices=DISPLAY_CHOICES,
        default=Display.initials.value,
        validators=[InputRequired(_l("Choose how you appear in the list."))],
    )
    consent = BooleanField(
        _l("I agree"),
        validators=[DataRequired(_l("Signing needs your consent to the processing of your data."))],
    )
    # Filled only by robots: the field is hidden from people.
    # Named so that no password manager or autofill takes it for one of its fields.
    leave_empty = StringField(_l("Leave this field empty"))
    started = HiddenField()
    submit = SubmitField(_l("Sign"))

    settings: SignFormSettings
    country: str
    image = None

    def to_data(self) -> SignData:
        """Return what was typed as operation input."""
        get = lambda name: getattr(self, name).data if name in self else ""  # noqa: E731
        return SignData(
            surname=self.surname.data,
            given_name=self.given_name.data,
            patronymic=get("patronymic") or "",
            region=get("region") or "",
            region_other=(get("region_other") or "") if get("region") == OTHER else "",
            town=get("town") or "",
            relationship=get("relationship") or "",
            relative_name=get("relative_name") or "",
            relative_location=get("relative_location") or "",
            children=get("children") if "children" in self else None,
            email=normalise_email(self.email.data) if "email" in self and self.email.data else "",
            hear_of_answer=bool(get("hear_of_answer"))
            if "email" in self and self.email.data
            else False,
            phone=normalise_phone(self.phone.data, self.country)
            if "phone" in self and self.phone.data
            else "",
            postal_address=get("postal_address") or "",
            image=self.image,
            typed_signature=get("typed_signature") or "",
            helper_name=self.helper_name.data if self.on_behalf.data else "",
            display=Display(self.display.data),
            relative_public="relative_public" in self and bool(self.relative_public.data),
            answers={
                question.id: _answer(self[f"q{question.id}"].data)
                for question in self.settings.questions
            },
            private_questions=frozenset(q.id for q in self.settings.questions if q.private),
        )


def _answer(data: Any) -> str:
    # A number answer of 0 is an answer; only a field left empty has none.
    return "" if data is None else str(data)


def sign_form_class(appeal: Appeal, settings: SignFormSettings, language: str) -> type[SignForm]:
    """Build the sign form class for this appeal's settings, labelled in the page language."""
    attributes: dict[str, Any] = {"settings": settings, "country": appeal.country}

    def mode(name: str) -> FieldMode:
        return field_mode(settings, name)

    def add(name: str, make: Any) -> None:
        if mode(name) is not FieldMode.off:
            attributes[name] = make(mode(name) is FieldMode.required)

    add("patronymic", lambda req: _text(BUILT_IN_FIELDS["patronymic"], req, NAME_MAX))
    if mode("region") is not FieldMode.off:
        regions = region_choices(appeal.country, language, settings.regions)
        choices = [SelectChoice("", _l("Choose…"))]
        choices += [SelectChoice(code, name) for code, name in regions]
        choices.append(SelectChoice(OTHER, _l("Elsewhere")))
        required = mode("region") is FieldMode.required
        attributes["region"] = SelectField(
            BUILT_IN_FIELDS["region"],
            choices=choices,
            validators=[DataRequired(_l("Choose your region."))] if required else [Optional()],
        )
        attributes["region_other"] = _text(_l("Where, if elsewhere"), False, 100)
    add("town", lambda req: _text(BUILT_IN_FIELDS["town"], req, 100))
    if mode("relationship") is not FieldMode.off:
        required = mode("relationship") is FieldMode.required
        attributes["relationship"] = SelectField(
            BUILT_IN_FIELDS["relationship"],
            choices=[SelectChoice("", _l("Choose…"))]
            + [SelectChoice(r, r) for r in settings.relationships],
            validators=[DataRequired(_l("Choose your relationship."))]
            if required
            else [Optional()],
        )
    if any(mode(name) is not FieldMode.off for name in RELATIVE_FIELDS):
        # Off unless she ticks it, whatever she chose for her name (signatures.audience).
        attributes["relative_public"] = BooleanField(RELATIVE_PUBLIC_LABEL, default=False)
    add("relative_name", lambda req: _text(BUILT_IN_FIELDS["relative_name"], req, 200))
    add("relative_location", lambda req: _text(BUILT_IN_FIELDS["relative_location"], req, 200))
    add(
        "children",
        lambda req: IntegerField(
            BUILT_IN_FIELDS["children"],
            validators=[
                InputRequired() if req else Optional(),
                NumberRange(min=0, max=30, message=_l("Enter a number from 0 to 30.")),
            ],
        ),
    )
    add(
        "email",
        lambda req: EmailField(
            BUILT_IN_FIELDS["email"],
            description=_l("Private: seen only by the organisers."),
            filters=[normalised],
            validators=[
                DataRequired(_l("Enter your email address.")) if req else Optional(),
                Length(max=254),
                valid_email,
            ],
        ),
    )
    if mode("email") is not FieldMode.off:
        # Her own choice, asked where her email is: the answer is mailed to those who tick it.
        attributes["hear_of_answer"] = BooleanField(
            _l("Email me when the answer to the appeal comes (with a link to stop)")
        )
    add(
        "phone",
        lambda req: StringField(
            BUILT_IN_FIELDS["phone"],
            description=_l("Private: seen only by the organisers."),
            filters=[normalised],
            validators=[
                DataRequired(_l("Enter your phone number.")) if req else Optional(),
                Length(max=32),
                no_hidden_characters,
            ],
        ),
    )
    add(
        "postal_address",
        lambda req: TextAreaField(
            BUILT_IN_FIELDS["postal_address"],
            description=_l("Private: seen only by the organisers and the authority."),
            filters=[normalised],
            validators=[
                DataRequired(_l("Enter your postal address.")) if req else Optional(),
                Length(max=500, message=_l("Use at most %(max)d characters.")),
                no_hidden_characters,
                printable,
            ],
        ),
    )
    if mode("drawn_signature") is not FieldMode.off:
        attributes["signature"] = HiddenField()
        attributes["typed_signature"] = _text(
            _l("Type your full name as your signature"), False, 200
        )
    for question in settings.questions:
        attributes[f"q{question.id}"] = _question_field(question)
    return type("AppealSignForm", (SignForm,), attributes)


def _question_field(question: Any) -> Field:
    field = _answer_field(question)
    if question.private:  # she is told, as for the other private details
        field.kwargs["description"] = _l("Private: seen only by the organisers and the authority.")
    else:  # and that this answer is public (signatures.audience)
        field.kwargs["description"] = _l(
            "Shown in public beside your name or initials, unless you choose not to be shown."
        )
    return field


def _answer_field(question: Any) -> Any:
    presence = DataRequired(_l("This field is required.")) if question.required else Optional()
    if question.kind is QuestionKind.number:
        return IntegerField(
            question.label,
            validators=[
                InputRequired(_l("This field is required.")) if question.required else Optional(),
                NumberRange(min=0, max=1_000_000, message=_l("Enter a number from 0 upwards.")),
            ],
        )
    if question.kind is QuestionKind.choice:
        return SelectField(
            question.label,
            choices=[SelectChoice("", _l("Choose…"))]
            + [SelectChoice(c, c) for c in question.choices],
            validators=[presence],
        )
    return _text(question.label, question.required, 500)


def validate_sign_form(form: SignForm) -> bool:
    """Run the per-field checks, then those that involve several fields or decoding."""
    valid = form.validate_on_submit()
    if form.helper_name.data and not form.on_behalf.data:
        # Without scripts the name's box is always shown: a name typed there is not dropped
        # unsaid.
        form.helper_name.errors = [
            *form.helper_name.errors,
            _l("Tick the box above if someone else is filling in the form, or leave this empty."),
        ]
        valid = False
    if form.on_behalf.data and not form.helper_name.data:
        form.helper_name.errors = [
            *form.helper_name.errors,
            _l("Give the name of the person filling in the form."),
        ]
        valid = False
    if "region" in form and form.region.data == OTHER and not form.region_other.data:
        form.region_other.errors = [*form.region_other.errors, _l("Say where you live.")]
        valid = False
    if "phone" in form and form.phone.data and not form.phone.errors:
        try:
            normalise_phone(form.phone.data, form.country)
        except ValueError:
            form.phone.errors = [*form.phone.errors, _l("Enter a valid phone number.")]
            valid = False
    # Decoding a drawing costs far more than the rest: not for a form refused anyway for its
    # token (anyone can send those).
    token_refused = "csrf_token" in form and bool(form.csrf_token.errors)
    if "signature" in form and not token_refused:
        valid = _check_signature(form) and valid
    elif "signature" in form and not looks_like_png_data_url(form.signature.data or ""):
        form.signature.data = ""  # kept for her next try only if it may be a drawing
    return valid


def _refusal(refused: InvalidImage) -> str:
    if isinstance(refused, NotPNG):
        return "not_png"
    if isinstance(refused, DamagedPNG):
        return "damaged"
    return "unreadable"


def _refusal_message(refused: InvalidImage) -> Any:
    if isinstance(refused, NotPNG):
        return _l("The drawn signature did not arrive as a PNG image. Please draw it again.")
    if isinstance(refused, DamagedPNG):
        return _l(
            "The drawn signature arrived damaged (cut off or corrupted). Please draw it again."
        )
    return _l("The drawn signature could not be read. Please draw it again.")


def _check_signature(form: SignForm) -> bool:
    drawn = form.signature.data or ""
    if drawn:
        try:
            form.image = clean_png(decode_data_url(drawn))
        except InvalidImage as refused:
            log_security_event("upload.refused", kind="signature", reason=_refusal(refused))
            form.signature.data = ""
            form.signature.errors = [_refusal_message(refused)]
            return False
        return True
    required = field_mode(form.settings, "drawn_signature") is FieldMode.required
    if required and not form.typed_signature.data:
        form.signature.errors = [_l("Sign in the box, or type your full name.")]
        return False
    return True


class ConfirmSignatureForm(FlaskForm):
    """The button that confirms a signature: mail scanners follow links, people press buttons."""

    submit = SubmitField(_l("Confirm my signature"))


class WithdrawForm(FlaskForm):
    """The confirmation button for withdrawing a signature."""

    submit = SubmitField(_l("Withdraw my signature"))
