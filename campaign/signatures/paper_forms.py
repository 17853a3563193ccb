"""Forms of the desk for paper signatures, imports and exports: they check the shape of input."""

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.appeals.models import Appeal
from campaign.signatures.forms import SignForm, sign_form_class
from campaign.signatures.models import SignatureSource, SignatureStatus, SignFormSettings


def paper_form_class(appeal: Appeal, settings: SignFormSettings, language: str) -> type[SignForm]:
    """The appeal's sign form, for a signature written in ink: every field it asks, the sheet
    and line, the day, and a scan of the signature instead of a drawing."""
    number = [
        Optional(),
        NumberRange(min=1, max=999_999, message=_l("Enter a whole number from 1.")),
    ]
    attributes: dict[str, Any] = {
        # Not on paper: the drawing pad, the robots' trap, the fill timer.
        "signature": None,
        "typed_signature": None,
        "leave_empty": None,
        "started": None,
        "consent": BooleanField(
            _l("She gave her consent to the processing of her data on the sheet"),
            validators=[DataRequired(_l("A signature is entered only with her consent."))],
        ),
        "sheet": IntegerField(_l("Sheet number"), validators=number),
        "line": IntegerField(_l("Line on the sheet"), validators=number),
        "signed_on": DateField(
            _l("Signed on"),
            default=date.today,
            validators=[InputRequired(_l("Enter the date written on the sheet."))],
        ),
        "scan": FileField(
            _l("Scan or photo of her signature (JPEG or PNG)"),
            description=_l("Optional. Only the picture is kept: its metadata is removed."),
        ),
        "submit": SubmitField(_l("Enter the signature")),
    }
    return type("PaperForm", (sign_form_class(appeal, settings, language),), attributes)


class UploadForm(FlaskForm):
    """A table of paper signatures to import."""

    table = FileField(_l("Table (CSV or XLSX, at most 50 MB)"))
    submit = SubmitField(_l("Upload and check"))


class ScanForm(FlaskForm):
    """The scan of a signed collection sheet."""

    sheet = IntegerField(
        _l("Sheet number"),
        validators=[
            InputRequired(_l("Enter the sheet's number.")),
            NumberRange(min=1, max=999_999, message=_l("Enter a whole number from 1.")),
        ],
    )
    scan = FileField(_l("Scan (PDF, JPEG or PNG)"))
    submit = SubmitField(_l("Store the scan"))


class DeleteScanForm(FlaskForm):
    """Confirm the deletion of a sheet's scan."""

    submit = SubmitField(_l("Delete the scan"))


_STATUS_LABELS = {
    "valid": _l("counted"),
    "pending": _l("waiting for confirmation"),
    "flagged": _l("flagged for review"),
    "rejected": _l("rejected"),
}


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def export_form_class(
    columns: list[str], regions: list[tuple[str, str]], relationships: list[str]
) -> type[FlaskForm]:
    """The export's choices: format, columns, and the list's filters."""
    everything = [SelectChoice("", _l("All"))]

    class ExportForm(FlaskForm):
        format = RadioField(
            _l("Format"),
            choices=[
                SelectChoice("csv", "CSV"),
                SelectChoice("xlsx", "XLSX"),
                SelectChoice("json", "JSON"),
            ],
            default="csv",
            validators=[InputRequired()],
        )
        bom = BooleanField(_l("Start the CSV with a byte order mark (for Excel)"))
        chosen = _Checkboxes(
            _l("Columns"), choices=[SelectChoice(c, c) for c in columns], default=columns
        )
        status = SelectField(
            _l("Status"),
            choices=everything
            + [
                SelectChoice(s.value, _STATUS_LABELS[s.value])
                for s in SignatureStatus
                if s.value in _STATUS_LABELS
            ],
            default="",
        )
        region = SelectField(
            _l("Region"), choices=everything + [SelectChoice(*r) for r in regions], default=""
        )
        relationship = SelectField(
            _l("Relationship"),
            choices=everything + [SelectChoice(r, r) for r in relationships],
            default="",
        )
        source = SelectField(
            _l("Source"),
            choices=[
                *everything,
                SelectChoice(SignatureSource.online.value, _l("online")),
                SelectChoice(SignatureSource.paper.value, _l("paper")),
            ],
            default="",
        )
        submit = SubmitField(_l("Export the signatures"))

    return ExportForm
