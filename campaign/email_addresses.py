"""Email addresses as the site stores them: checked, normalised and lower-cased. Accounts,
signers and imported tables all go through here."""

from email_validator import EmailNotValidError, validate_email


class NonLatinMailbox(ValueError):
    """The part of an address before the @ is not in ASCII: mail sent from here (without
    SMTPUTF8) cannot reach it."""


def normalise_email(email: str) -> str:
    """Return the email as stored: syntax-normalised and lower-cased; raise ValueError if bad
    (NonLatinMailbox for letters beyond ASCII before the @)."""
    try:
        result = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        if not email.strip().rpartition("@")[0].isascii():
            raise NonLatinMailbox(str(exc)) from exc
        raise ValueError(str(exc)) from exc
    return result.normalized.lower()
