"""Forms for signing up and logging in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length

from campaign.accounts.operations import PASSWORD_MIN_LENGTH, normalise_email
from campaign.forms import no_hidden_characters, normalised


def valid_email(_form: FlaskForm, field: EmailField) -> None:
    """Refuse an address that is not shaped like an email."""
    try:
        normalise_email(field.data or "")
    except ValueError:
        raise ValidationError(_l("Enter a valid email address.")) from None


class SignUpForm(FlaskForm):
    """A new organiser account."""

    name = StringField(
        _l("Your name"),
        filters=[normalised],
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=100, message=_l("Use at most %(max)d characters.")),
            no_hidden_characters,
        ],
    )
    email = EmailField(
        _l("Email"),
        filters=[normalised],
        validators=[DataRequired(_l("Enter your email address.")), valid_email],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=200,
                message=_l("Use between %(min)d and %(max)d characters."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
    )
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
