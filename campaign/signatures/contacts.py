"""Contacts: normalise an email or phone so one person counts once, and hash it with a key.

A signer is her contact together with her name: relatives share a mailbox or a phone (an
elderly mother signs on her daughter's), and each of them signs. The same name with the same
contact is the same person, who signs once.
"""

import hashlib
import hmac
import unicodedata

import phonenumbers
from flask import current_app

# Providers that ignore dots in the local part and treat "+tag" as the same mailbox.
_DOTLESS = {"gmail.com", "googlemail.com"}


def email_identity(email: str) -> str:
    """Return the mailbox an address reaches: lower case, +tags dropped, Gmail dots folded."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def normalise_phone(phone: str, country: str) -> str:
    """Return the number in E.164, reading a national number as the country's; else ValueError."""
    try:
        number = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def name_identity(surname: str, given_name: str, patronymic: str = "") -> str:
    """Return the name a signer is known by: case, compatibility forms, spaces, "ё" and the
    order of surname and given name folded. The patronymic counts: a granddaughter named
    after her grandmother, on the same phone, is not her (the same woman signing once with
    it and once without is counted twice, for the organisers to see)."""
    surname, given_name, patronymic = (
        " ".join(unicodedata.normalize("NFKC", part).casefold().replace("ё", "е").split())
        for part in (surname, given_name, patronymic)
    )
    return "|".join([*sorted([surname, given_name]), patronymic])


def contact_hash(kind: str, identity: str, name: str) -> str:
    """Return a keyed hash of a normalised contact and the name of whoever gave it (see
    name_identity); the key is not in the database."""
    key = current_app.config["CONTACT_HASH_KEY"] or current_app.config["SECRET_KEY"]
    message = f"{kind}:{identity}\n{name}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
