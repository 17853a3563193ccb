"""Validators and filters shared by the forms of every domain."""

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, ValidationError

from campaign.text import has_hidden_characters, normalise_text


def no_hidden_characters(_form: Form, field: Field) -> None:
    """Refuse control, zero-width and direction-override characters."""
    if isinstance(field.data, str) and has_hidden_characters(field.data):
        raise ValidationError(_l("Remove the invisible or control characters from this field."))


def normalised(value: Any) -> Any:
    """Filter: NFC, Unix line endings, no surrounding blanks."""
    return normalise_text(value) if isinstance(value, str) else value
