"""Contacts: normalise an email or phone so one person counts once, and hash it with a key.

A signer is her contact together with her name: relatives share a mailbox or a phone (an
elderly mother signs on her daughter's), and each of them signs. The same name, in any script
or spelling, with the same contact is the same person, who signs once.
"""

import hashlib
import hmac

import phonenumbers
from flask import current_app

from campaign.signatures.names import fold_name, name_key

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
    """Return the name a signer is known by: her name's key in any script (names.py: "Мадина
    Налоева" and "Madina Naloyeva" are one name) and her patronymic's. The patronymic counts: a
    granddaughter named after her grandmother, on the same phone, is not her (the same woman
    signing once with it and once without is counted twice, for the organisers to see)."""
    # A name with no letter or digit to fold (emoji, say) is itself, not everyone's empty key.
    key = name_key(surname, given_name) or " ".join(f"{surname} {given_name}".casefold().split())
    return f"{key}|{fold_name(patronymic)}"


def contact_hash(kind: str, identity: str, name: str) -> str:
    """Return a keyed hash of a normalised contact and the name of whoever gave it (see
    name_identity); the key is not in the database."""
    key = current_app.config["CONTACT_HASH_KEY"] or current_app.config["SECRET_KEY"]
    message = f"{kind}:{identity}\n{name}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
