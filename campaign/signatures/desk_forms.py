"""Forms of the organiser's desk for duplicates and families: they check the shape of input;
the rules (a pair of one appeal, two families at least, someone stays) are the operations'."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectMultipleField, SubmitField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from campaign.forms import RevisionField


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
