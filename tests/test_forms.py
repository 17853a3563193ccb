"""Every text field people type into refuses what could hide or break a text."""

import importlib
import pkgutil

import pytest
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Form,
    HiddenField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import ValidationError

import campaign
from campaign.forms import no_hidden_characters
from campaign.signatures.forms import sign_form_class
from campaign.signatures.models import CustomQuestion, FieldMode, QuestionKind
from campaign.signatures.settings import sign_form_settings
from campaign.signatures.settings_forms import settings_form_class

# Fields that take no free text: each has its own narrower check.
EXEMPT = {
    "slug",  # lower-case Latin letters, digits and hyphens (slug_is_valid)
    "leave_empty",  # the honeypot: anything in it is refused
}


def _form_classes():
    for module in pkgutil.walk_packages(campaign.__path__, "campaign."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    seen, stack = set(), [Form]
    while stack:
        for subclass in stack.pop().__subclasses__():
            if subclass not in seen:
                seen.add(subclass)
                stack.append(subclass)
    return [cls for cls in seen if cls.__module__.startswith("campaign.")]


def _text_fields(form_class):
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        field_class = getattr(unbound, "field_class", None)
        if not isinstance(field_class, type) or not issubclass(field_class, StringField):
            continue
        if issubclass(field_class, EmailField | PasswordField | HiddenField) or name in EXEMPT:
            continue
        yield name, unbound


def _dynamic_classes(appeal):
    settings = sign_form_settings(appeal)
    settings.fields = {name: FieldMode.optional.value for name in settings.fields}
    settings.questions = [
        CustomQuestion(id=n, position=n, label=f"Q{n}", kind=kind, choices=["a"], required=False)
        for n, kind in enumerate(QuestionKind, 1)
    ]
    return [sign_form_class(appeal, settings, "en"), settings_form_class([("RU-CE", "Chechnya")])]


def test_every_text_field_carries_the_check(app, make_published_appeal):
    classes = _form_classes() + _dynamic_classes(make_published_appeal(country="RU"))
    checked = []
    for form_class in classes:
        for name, unbound in _text_fields(form_class):
            validators = unbound.kwargs.get("validators") or []
            assert no_hidden_characters in validators, f"{form_class.__name__}.{name}"
            checked.append(f"{form_class.__name__}.{name}")
    # The walk really found the forms (a broken walk would pass with nothing checked).
    for expected in ("AppealForm.title", "AddresseeForm.name", "SignUpForm.name"):
        assert expected in checked
    assert any(name.endswith(".surname") for name in checked)
    assert any(name.endswith(".relative_name") for name in checked)
    assert any(name.endswith(".postal_address") for name in checked)


class _Probe(FlaskForm):
    line = StringField(validators=[no_hidden_characters])
    text = TextAreaField(validators=[no_hidden_characters])


@pytest.mark.parametrize(
    "value",
    ["a\nb", "a\rb", "a\u2028b", "a\u2029b"],
)
def test_a_one_line_field_refuses_a_line_break_a_text_area_takes_newlines(app, value):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        form = _Probe(formdata=None, meta={"csrf": False})
        form.line.data = value
        with pytest.raises(ValidationError, match="one line"):
            no_hidden_characters(form, form.line)
        form.text.data = "a\nb"
        no_hidden_characters(form, form.text)
