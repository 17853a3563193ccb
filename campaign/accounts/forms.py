"""Forms for signing up, logging in, choosing a new password, and securing the account."""

import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    Form,
    PasswordField,
    StringField,
    SubmitField,
    ValidationError,
)
from wtforms.validators import DataRequired, EqualTo, Length

from campaign.accounts.operations import PASSWORD_MIN_LENGTH
from campaign.email_addresses import normalise_email
from campaign.forms import no_hidden_characters, normalised, valid_email


def no_control_characters(_form: Form, field: Field) -> None:
    """Refuse a password with a control character (NUL, a tab, a line break, an escape...):
    no keyboard types one, and systems that read the password may cut it there."""
    if any(unicodedata.category(char) == "Cc" for char in field.data or ""):
        raise ValidationError(
            _l(
                "A password cannot contain control characters (such as a tab, a line break or "
                "a null character). Type it again without them."
            )
        )


def _new_password() -> list[Any]:
    return [
        DataRequired(_l("Choose a password.")),
        Length(
            min=PASSWORD_MIN_LENGTH,
            max=200,
            message=_l("Use between %(min)d and %(max)d characters."),
        ),
        no_control_characters,
    ]


def _current_password() -> PasswordField:
    return PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )


def _same_password() -> list[Any]:
    return [EqualTo("password", message=_l("The two passwords differ."))]


def _name() -> StringField:
    return StringField(
        _l("Your name"),
        description=_l("Other members of your appeals see it."),
        filters=[normalised],
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=100, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )


class SignUpForm(FlaskForm):
    """A new organiser account."""

    name = _name()
    email = EmailField(
        _l("Email"),
        filters=[normalised],
        validators=[DataRequired(_l("Enter your email address.")), valid_email],
    )
    password = PasswordField(_l("Password"), validators=_new_password())
    confirm = PasswordField(_l("Repeat the password"), validators=_same_password())
    submit = SubmitField(_l("Create account"))


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(
        _l("Email"),
        filters=[normalised],
        validators=[DataRequired(_l("Enter your email address."))],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    submit = SubmitField(_l("Log in"))


class LogoutForm(FlaskForm):
    """A button: logging out changes state, so it is a POST with a CSRF token."""

    submit = SubmitField(_l("Log out"))


class ResetRequestForm(FlaskForm):
    """The address of the account whose password was forgotten."""

    email = EmailField(
        _l("Email"),
        filters=[normalised],
        validators=[DataRequired(_l("Enter your email address.")), valid_email],
    )
    submit = SubmitField(_l("Send me a link"))


class NewPasswordForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField(_l("New password"), validators=_new_password())
    confirm = PasswordField(_l("Repeat the password"), validators=_same_password())
    submit = SubmitField(_l("Save the new password"))


class UndoEmailChangeForm(NewPasswordForm):
    """A new password, with which the account returns to the address it left."""

    submit = SubmitField(_l("Bring my account back"))


class ConfirmForm(FlaskForm):
    """The password chosen at sign-up: confirming an account logs in.

    The link alone is not enough: whoever signed up last with an unconfirmed address set the
    password, and the address's owner, confirming the latest link, would hand them her
    account. A POST with a CSRF token, since mail scanners follow links.
    """

    password = PasswordField(
        _l("Password"),
        description=_l("The one you chose when you signed up."),
        validators=[DataRequired(_l("Enter your password."))],
    )
    submit = SubmitField(_l("Confirm my account"))


class NameForm(FlaskForm):
    """The name an organiser goes by."""

    name = _name()
    submit = SubmitField(_l("Save the name"))


class ChangePasswordForm(FlaskForm):
    """The current password, then a new one twice."""

    current = _current_password()
    password = PasswordField(_l("New password"), validators=_new_password())
    confirm = PasswordField(_l("Repeat the new password"), validators=_same_password())
    submit = SubmitField(_l("Change the password"))


class EmailChangeForm(FlaskForm):
    """A new address for the account, and the current password."""

    email = EmailField(
        _l("New email address"),
        description=_l("We mail it a link: the address changes when you open it there."),
        filters=[normalised],
        validators=[DataRequired(_l("Enter your email address.")), valid_email],
    )
    current = _current_password()
    submit = SubmitField(_l("Send the link"))

    def __init__(self, *args: Any, current_email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._current_email = current_email

    def validate_email(self, field: EmailField) -> None:
        """The account's own address is no change."""
        try:
            same = normalise_email(field.data or "") == self._current_email
        except ValueError:
            return  # valid_email says why
        if same:
            raise ValidationError(_l("This is already your address."))


class EmailChangeConfirmForm(FlaskForm):
    """The account's password: the link proves only that the new address is read, and a
    mistyped address is someone else's. A POST, since mail scanners follow links."""

    current = _current_password()
    submit = SubmitField(_l("Use this address"))


class UnlockForm(FlaskForm):
    """The password, on the page of the link mailed when logging in was paused by a flood."""

    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    submit = SubmitField(_l("Log in"))


def _code(label: Any, description: Any) -> StringField:
    return StringField(
        label,
        description=description,
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Enter the code.")),
            Length(max=40, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )


class SecondStepForm(FlaskForm):
    """The code from the authenticator app, or a recovery code, after the password."""

    code = _code(
        _l("Code"),
        _l("The six digits your authenticator app shows now, or one of your recovery codes."),
    )
    submit = SubmitField(_l("Log in"))


class TwoFactorStartForm(FlaskForm):
    """A button: make a new secret for the authenticator app."""

    submit = SubmitField(_l("Set up two-step login"))


class TwoFactorEnableForm(FlaskForm):
    """The first code the app shows, and the password: turning it on changes how one logs in."""

    code = _code(_l("Code from the app"), _l("The six digits the app shows for Campaign."))
    current = _current_password()
    submit = SubmitField(_l("Turn on two-step login"))


class TwoFactorDisableForm(FlaskForm):
    """The password, to turn two-step login off."""

    current = _current_password()
    submit = SubmitField(_l("Turn off two-step login"))


class RecoveryCodesForm(FlaskForm):
    """The password, to replace the recovery codes with new ones."""

    current = _current_password()
    submit = SubmitField(_l("Make new recovery codes"))


class EndSessionForm(FlaskForm):
    """A button: log out one browser, or every browser."""

    submit = SubmitField(_l("Log out"))


class DeleteAccountForm(FlaskForm):
    """The password, to delete the account."""

    current = _current_password()
    submit = SubmitField(_l("Delete my account"))
