"""The sign form's signed stamp (when it was shown, which version) and a sent form's digest."""

import hashlib
import json
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict

from campaign.clock import utcnow


@dataclass(frozen=True)
class Started:
    """What the form's stamp says: how long ago it was shown, and which letter version."""

    seconds: float
    version: int


class FillTimer:
    """A signed stamp in the form: when it was shown (to refuse forms sent faster than a person
    types) and the number of the letter's version it showed (a signature is given on that)."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="sign-form-started")

    def stamp(self, version: int) -> str:
        """Return the value to put in the form when it is shown with this version.

        A random part makes each page view's form its own, so that the same form sent twice
        is known as such (see submission_digest).
        """
        return self._serializer.dumps([version, secrets.token_urlsafe(16)])

    def read(self, value: str | None, max_age: int = 86_400) -> Started | None:
        """Return what the stamp says, or None if it is missing, forged or too old."""
        if not value:
            return None
        try:
            version, signed_at = self._serializer.loads(
                value, max_age=max_age, return_timestamp=True
            )
        except (BadSignature, SignatureExpired):
            return None
        seconds = (utcnow() - signed_at).total_seconds()
        if isinstance(version, list) and version:  # [version, random part]
            version = version[0]
        return Started(seconds, version if isinstance(version, int) else 0)


def submission_digest(formdata: MultiDict[str, str]) -> str:
    """Return a digest of a sent form, the same only for the same page view's form sent again.

    A browser's retry, a second tap without scripts or a resubmitted page sends the very same
    fields, the stamp's random part included; a form changed before sending it again (a family
    signing one after another on one phone) gives another digest.
    """
    fields = sorted(formdata.items(multi=True))
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()
