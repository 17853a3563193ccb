"""Validators, filters and fields shared by the forms of every domain."""

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, Form, HiddenField, TextAreaField, ValidationError

from campaign.email_addresses import NonLatinMailbox, normalise_email
from campaign.pdf_glyphs import unprintable_characters
from campaign.text import (
    MAX_COMBINING_MARKS,
    has_hidden_characters,
    has_line_break,
    has_stacked_marks,
    normalise_text,
)


def no_hidden_characters(_form: Form, field: Field) -> None:
    """Refuse what could hide or break a text: invisible, control and direction characters,
    letters under a stack of marks, and a line break in any field but a multi-line one.

    Every text field that people type into carries this validator (a test walks the forms).
    """
    if not isinstance(field.data, str):
        return
    if has_hidden_characters(field.data):
        raise ValidationError(_l("Remove the invisible or control characters from this field."))
    if not isinstance(field, TextAreaField) and has_line_break(field.data):
        raise ValidationError(_l("Keep this field on one line."))
    if has_stacked_marks(field.data):
        raise ValidationError(
            _l(
                "A letter here carries more than %(max)d accents or marks: remove the extra ones.",
                max=MAX_COMBINING_MARKS,
            )
        )


def printable(_form: Form, field: Field) -> None:
    """Refuse characters that no installed font has: the dossier would print an empty box.

    Text that reaches a dossier carries this validator (the sign form's text fields).
    """
    if not isinstance(field.data, str):
        return
    missing = unprintable_characters(field.data)
    if missing:
        shown = ", ".join(f"{character} (U+{ord(character):04X})" for character in missing[:5])
        raise ValidationError(
            _l(
                "The dossier cannot print these characters: %(characters)s. Write them another "
                "way, for example in Latin or Cyrillic letters.",
                characters=shown,
            )
        )


class LinesAtMost:
    """Refuse a list, one item per line, with a line longer than `length` characters."""

    def __init__(self, length: int) -> None:
        self.length = length

    def __call__(self, _form: Form, field: Field) -> None:
        lines = (field.data or "").split("\n") if isinstance(field.data, str) else []
        if any(len(line.strip()) > self.length for line in lines):
            raise ValidationError(
                _l("Keep each line to at most %(max)d characters.", max=self.length)
            )


def valid_email(_form: Form, field: Field) -> None:
    """Refuse an address, if one is given, that is not shaped like an email or that mail
    from here cannot reach."""
    if not field.data:
        return
    try:
        normalise_email(field.data)
    except NonLatinMailbox:
        raise ValidationError(
            _l("Before the “@”, use Latin letters, digits and signs: we cannot mail the others.")
        ) from None
    except ValueError:
        raise ValidationError(_l("Enter a valid email address.")) from None


def normalised(value: Any) -> Any:
    """Filter: NFC, Unix line endings, no surrounding blanks."""
    return normalise_text(value) if isinstance(value, str) else value


_REVISION = re.compile(r"[0-9]{1,9}")


class RevisionField(HiddenField):
    """The revision of what the page showed (a draft, settings); anything but a number reads
    as None.

    None matches no revision: a page that lost it is treated as one showing an older state.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the number, never failing validation (the operation compares it)."""
        raw = str(valuelist[0]) if valuelist else ""
        self.data = int(raw) if _REVISION.fullmatch(raw) else None


class DayField(DateField):
    """A day (YYYY-MM-DD, as a date input sends it), with our own message when it is not one."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read the day, or keep what was typed and say what is expected."""
        raw = (valuelist[0] if valuelist else "").strip()
        self.raw_data = [raw]
        if not raw:
            self.data = None
            return
        try:
            self.data = date.fromisoformat(raw) if _DAY.fullmatch(raw) else None
        except ValueError:
            self.data = None
        if self.data is None:
            raise ValueError(_l("Enter a day as YYYY-MM-DD, for example 2026-12-06."))


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
