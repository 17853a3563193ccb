"""Forms for asking for a dossier and for checking a copy of one."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, SubmitField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from campaign.dossiers.models import Edition
from campaign.forms import no_hidden_characters

EDITION_CHOICES = [
    SelectChoice(Edition.submission.value, _l("For submission: everything an authority needs")),
    SelectChoice(Edition.public.value, _l("Public: private details left out")),
    SelectChoice(
        Edition.sheets.value, _l("One sheet per online signer, for her own wet-ink signature")
    ),
]


class DossierRequestForm(FlaskForm):
    """Which dossier to render."""

    edition = RadioField(
        _l("Edition"),
        choices=EDITION_CHOICES,
        default=Edition.submission.value,
        validators=[InputRequired(_l("Choose an edition."))],
    )
    landscape = BooleanField(_l("Signatory table in landscape pages"))
    sign = BooleanField(_l("Sign the PDF digitally with the site's certificate"))
    submit = SubmitField(_l("Make the dossier"))


class VerifyForm(FlaskForm):
    """A copy of a dossier, or one of its fingerprints, to check."""

    pdf = FileField(_l("The PDF file"))
    fingerprint = StringField(
        _l("Or a fingerprint"),
        description=_l("The SHA-256 of the file or of the signature list, or the snapshot id."),
        filters=[lambda value: value.strip() if value else value],
        validators=[
            Length(max=100, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    submit = SubmitField(_l("Check"))

    def validate_fingerprint(self, field: StringField) -> None:
        """Ask for one of the two."""
        if not field.data and not self.pdf.data:
            raise ValidationError(_l("Choose a PDF file or enter a fingerprint."))


class VerifyFileForm(FlaskForm):
    """A copy to compare with one snapshot."""

    pdf = FileField(_l("The PDF file"))
    submit = SubmitField(_l("Compare"))

    def validate_pdf(self, field: FileField) -> None:
        """A file is needed."""
        if not field.data:
            raise ValidationError(_l("Choose a PDF file."))
