"""Forms of the organiser's desk (the list, moderation, duplicates, families): they check the
shape of input; the rules (a pair of one appeal, two families at least, someone stays, which
step a signature may take) are the operations'."""

import re
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from campaign.appeals.models import Appeal
from campaign.forms import DayField, RevisionField, no_hidden_characters, normalised
from campaign.signatures.listing import FILTERS, SORTS, Query


class PairForm(FlaskForm):
    """Decide about a candidate pair: which button was pressed says what."""

    first = IntegerField(validators=[InputRequired()], widget=HiddenInput())
    second = IntegerField(validators=[InputRequired()], widget=HiddenInput())
    # The revisions of the two signatures that the page showed (see duplicate_decisions).
    first_revision = RevisionField()
    second_revision = RevisionField()
    page = HiddenField()
    keep_first = SubmitField(_l("Keep A, reject B as its duplicate"))
    keep_second = SubmitField(_l("Keep B, reject A as its duplicate"))
    distinct = SubmitField(_l("Different people"))


class IdsField(SelectMultipleField):
    """Several ids from checkboxes; any value that is not a number is dropped."""

    def pre_validate(self, form: FlaskForm) -> None:
        """Take any ids: which exist, and whose they are, is for the operation to say."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Keep the numbers, in the order sent (a repeated one stays repeated)."""
        self.data = [int(value) for value in valuelist if value.isdigit() and len(value) < 10]


class MergeForm(FlaskForm):
    """Merge the families ticked on the families page."""

    family = IdsField(coerce=int)
    merge = SubmitField(_l("Merge the selected families"))


class SplitForm(FlaskForm):
    """Move the ticked signers of a family to a family of their own."""

    signature = IdsField(coerce=int)
    split = SubmitField(_l("Move them to a family of their own"))


class RecomputeForm(FlaskForm):
    """Place every signer again (an organiser's merges and splits stay)."""

    recompute = SubmitField(_l("Recompute the families"))


class ListFormBase(FlaskForm):
    """The list's search, dates, duplicates, paper rows without a scan, and order;
    signatures_list_form adds the choice filters of listing.FILTERS. Sent by GET: no CSRF
    token (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name, in any script"),
        filters=[normalised],
        validators=[Optional(), Length(max=100), no_hidden_characters],
    )
    signed_from = DayField(_l("Signed from"), validators=[Optional()])
    signed_to = DayField(_l("Signed until"), validators=[Optional()])
    duplicates = BooleanField(_l("Only possible duplicates"))
    without_scan = BooleanField(_l("Only paper signatures whose sheet has no scan"))
    sort = SelectField(
        _l("Order"),
        choices=[SelectChoice(name, sort.label) for name, sort in SORTS.items()],
        default="newest",
    )

    def validate_signed_to(self, field: DayField) -> None:
        """Refuse a range that ends before it starts."""
        if field.data and self.signed_from.data and field.data < self.signed_from.data:
            raise ValidationError(_l("The last day comes before the first."))


def signatures_list_form(appeal: Appeal, language: str) -> ListFormBase:
    """The list's form for an appeal, read from the query string."""
    attributes = {
        choice.name: SelectField(
            choice.label,
            choices=[
                SelectChoice("", _l("any")),
                *(SelectChoice(v, label) for v, label in choice.choices(appeal, language)),
            ],
            default="",
        )
        for choice in FILTERS
    }
    form_class = type("SignaturesListForm", (ListFormBase,), attributes)
    return form_class(request.args)


def list_query(form: ListFormBase) -> Query:
    """What a valid list form asks for."""
    return Query(
        search=form.q.data or "",
        choices={f.name: form[f.name].data for f in FILTERS if form[f.name].data},
        signed_from=form.signed_from.data,
        signed_to=form.signed_to.data,
        duplicates=bool(form.duplicates.data),
        without_scan=bool(form.without_scan.data),
        sort=form.sort.data or "newest",
    )


class ModerateForm(FlaskForm):
    """Flag, reject or restore one signature; the revision is the one the page showed."""

    revision = RevisionField()
    reason = TextAreaField(
        _l("Reason"),
        filters=[normalised],
        validators=[Length(max=500), no_hidden_characters],
        description=_l("Needed to reject; kept with the signature, seen by the organisers."),
    )
    flag = SubmitField(_l("Flag for review"))
    reject = SubmitField(_l("Reject"))
    restore = SubmitField(_l("Restore"))


BULK_ACTIONS = {"flag": _l("Flag for review"), "reject": _l("Reject"), "restore": _l("Restore")}


class BulkForm(FlaskForm):
    """The ticked signatures of the list and what to do with them (asked to confirm next)."""

    signature = IdsField(coerce=int)
    action = SelectField(
        _l("With the selected signatures"),
        choices=[
            SelectChoice("", _l("choose an action")),
            *(SelectChoice(code, label) for code, label in BULK_ACTIONS.items()),
        ],
        validators=[InputRequired(_l("Choose what to do with the selected signatures."))],
    )
    review = SubmitField(_l("Review and confirm"))


_SEEN = re.compile(r"[0-9]{1,9}:[0-9]{1,9}")


class SeenField(HiddenField):
    """The ids of the signatures confirmed with the revision each had when shown: "12:0 15:3"."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the pairs; anything else leaves None (the view refuses it)."""
        words = str(valuelist[0]).split() if valuelist else []
        if words and len(words) <= MAX_BULK and all(_SEEN.fullmatch(word) for word in words):
            self.data = {int(i): int(r) for i, r in (word.split(":") for word in words)}
        else:
            self.data = None

    def _value(self) -> str:
        return " ".join(f"{i}:{r}" for i, r in (self.data or {}).items())


# A bulk action takes at most a page and a bit: the list shows PAGE_SIZE at once.
MAX_BULK = 500


class BulkConfirmForm(FlaskForm):
    """Confirm a bulk action on the signatures shown, as they were shown."""

    action = HiddenField()
    seen = SeenField()
    reason = TextAreaField(
        _l("Reason"),
        filters=[normalised],
        validators=[Length(max=500), no_hidden_characters],
        description=_l("Needed to reject; kept with each signature, seen by the organisers."),
    )
    confirm = SubmitField(_l("Confirm"))
