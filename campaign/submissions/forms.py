"""Forms of the submissions desk: a hand-in, its answer, a scan, a follow-up letter."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from campaign.forms import no_hidden_characters, normalised
from campaign.submissions.models import AnswerKind, Channel, ScanKind

OTHER_ADDRESSEE = "other"

CHANNEL_CHOICES = [
    SelectChoice(Channel.post.value, _l("By post, with a tracking number")),
    SelectChoice(Channel.in_person.value, _l("In person, at a reception office")),
    SelectChoice(Channel.online.value, _l("The authority's online reception")),
    SelectChoice(Channel.email.value, _l("Plain e-mail")),
    SelectChoice(Channel.other.value, _l("Other")),
]
ANSWER_CHOICES = [
    SelectChoice(AnswerKind.answered.value, _l("Answered")),
    SelectChoice(AnswerKind.partly.value, _l("Partly answered")),
    SelectChoice(AnswerKind.refused.value, _l("Refused")),
    SelectChoice(AnswerKind.forwarded.value, _l("Forwarded to another body")),
]
SCAN_CHOICES = [
    SelectChoice(ScanKind.receipt.value, _l("Receipt or stamped copy")),
    SelectChoice(ScanKind.answer.value, _l("The answer")),
]
FOLLOWUP_CHOICES = [
    SelectChoice("reminder", _l("A reminder")),
    SelectChoice("complaint", _l("A complaint about a missing answer")),
]


def _text(label: object, maximum: int, **kwargs: object) -> StringField:
    return StringField(
        label,
        filters=[normalised],
        validators=[
            Length(max=maximum, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
        **kwargs,
    )


def _date(label: object, **kwargs: object) -> DateField:
    return DateField(label, validators=[Optional()], render_kw={"autocomplete": "off"}, **kwargs)


class SubmissionForm(FlaskForm):
    """What was handed in, to whom, how and when; the registration, entered later."""

    snapshot_id = SelectField(_l("Dossier handed in"), validate_choice=False)
    addressee_choice = SelectField(_l("Addressee"), validate_choice=False)
    addressee_other = _text(_l("Or another addressee"), 500)
    channel = SelectField(_l("Channel"), choices=CHANNEL_CHOICES)
    channel_detail = _text(
        _l("Tracking number or reception office"), 200, description=_l("Seen by members only.")
    )
    sent_on = _date(_l("Sent or handed in on"))
    received_on = _date(_l("Received by the authority on"))
    registration_number = _text(_l("Registration number"), 100)
    registered_on = _date(_l("Registered on"))
    registration_public = BooleanField(_l("Show the registration number in public"))
    extension_days = IntegerField(
        _l("Answer extended by (days)"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=30, message=_l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    notice_days = IntegerField(
        _l("Days the signers are told before it is sent"),
        default=0,
        description=_l("From 0 to 7; the signers who left an email are told first."),
        validators=[
            Optional(),
            NumberRange(min=0, max=7, message=_l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    submit = SubmitField(_l("Save"))

    def validate_addressee_other(self, field: StringField) -> None:
        """Either one of the letter's addressees or a typed one."""
        if self.addressee_choice.data == OTHER_ADDRESSEE and not field.data:
            raise ValidationError(_l("Type the addressee."))


class AnswerForm(FlaskForm):
    """The authority's answer."""

    kind = RadioField(
        _l("What the answer did"),
        choices=ANSWER_CHOICES,
        validators=[InputRequired(_l("Choose what the answer did."))],
    )
    answered_on = DateField(
        _l("Dated"), validators=[InputRequired(_l("Give the date of the answer."))]
    )
    outgoing_number = _text(_l("Its outgoing number"), 100)
    forwarded_to = _text(_l("Forwarded to"), 500)
    summary = TextAreaField(
        _l("Summary"),
        filters=[normalised],
        validators=[
            Length(max=2000, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    body = TextAreaField(
        _l("Text of the answer"),
        filters=[normalised],
        validators=[
            Length(max=50_000, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    public = BooleanField(_l("Show the summary and the text on the appeal's page"))
    submit = SubmitField(_l("Record the answer"))


class ScanForm(FlaskForm):
    """A scanned receipt or answer."""

    kind = SelectField(_l("What it shows"), choices=SCAN_CHOICES)
    file = FileField(_l("PDF, JPEG or PNG file"))
    submit = SubmitField(_l("Add the scan"))

    def validate_file(self, field: FileField) -> None:
        """A file is needed."""
        if not field.data:
            raise ValidationError(_l("Choose a file."))


class FollowUpForm(FlaskForm):
    """A reminder or complaint, drafted from the organiser's template."""

    kind = RadioField(_l("Letter"), choices=FOLLOWUP_CHOICES, default="reminder")
    text = TextAreaField(
        _l("Text"),
        description=_l(
            "Markdown. {sent_on}, {number}, {registered_on}, {due_on} and {fingerprint} are "
            "replaced by the submission's details."
        ),
        validators=[
            InputRequired(_l("Write the letter.")),
            Length(max=20_000, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    submit = SubmitField(_l("Make the PDF"))


class DeleteSubmissionForm(FlaskForm):
    """Confirm the deletion."""

    submit = SubmitField(_l("Delete the submission"))


class ListingForm(FlaskForm):
    """Whether the home page lists the appeal."""

    listed = BooleanField(_l("List this appeal on the home page"))
    submit = SubmitField(_l("Save"))


class NoticeForm(FlaskForm):
    """Tell the signers before the submission; the key makes a double click send once."""

    request_key = HiddenField(validators=[InputRequired(), Length(min=16, max=64)])
    submit = SubmitField(_l("Tell the signers now"))


class ResumeMailingForm(FlaskForm):
    """Send the messages of a mailing whose worker stopped."""

    submit = SubmitField(_l("Send the rest"))


class RetryMailingForm(FlaskForm):
    """Send again the messages of a mailing that failed every try."""

    submit = SubmitField(_l("Try the failed ones again"))


class RecordSentForm(FlaskForm):
    """Date the hand-in today."""

    submit = SubmitField(_l("Record as sent today"))


class UpdateForm(FlaskForm):
    """The update to the signers who asked to hear of the answer."""

    request_key = HiddenField(validators=[InputRequired(), Length(min=16, max=64)])
    subject = StringField(
        _l("Subject"),
        filters=[normalised],
        validators=[
            InputRequired(_l("Write a subject.")),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    body = TextAreaField(
        _l("Message"),
        description=_l("Markdown; it is sent as plain text, with a link to stop such messages."),
        filters=[normalised],
        validators=[
            InputRequired(_l("Write the message.")),
            Length(max=20_000, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Send to the signers"))


class UnsubscribeForm(FlaskForm):
    """The button that stops messages (the link alone changes nothing: mail scanners follow
    links)."""

    submit = SubmitField(_l("Stop these messages"))
