"""The sign form's signed stamp (when it was shown, which version) and a sent form's digest."""

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict

from campaign.clock import utcnow


@dataclass(frozen=True)
class Started:
    """What the form's stamp says: how long ago it was shown, and which letter version."""

    seconds: float
    version: int


_SALT = "sign-form-started"
MAX_AGE = 86_400  # a day: a stamp older than that is no longer read


class _BackdatedSigner(TimestampSigner):
    """A stamp's signer that dates it to a given moment (a page's first showing)."""

    def __init__(self, *args: Any, signed_at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signed_at = signed_at

    def get_timestamp(self) -> int:
        return self._signed_at


class FillTimer:
    """A signed stamp in the form: when it was shown (to refuse forms sent faster than a person
    types) and the number of the letter's version it showed (a signature is given on that)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def stamp(self, version: int) -> str:
        """Return the value to put in the form when it is shown with this version.

        A random part makes each page view's form its own, so that the same form sent twice
        is known as such (see submission_digest).
        """
        return self._serializer.dumps([version, secrets.token_urlsafe(16)])

    def read(self, value: str | None, max_age: int = MAX_AGE) -> Started | None:
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

    def kept(self, value: str | None, version: int) -> str:
        """Return the stamp to show a refused form again with: the one it was sent with, so
        that her fill time runs from when her page was first shown, not from the refusal.

        Sent again at once (the box ticked, a field corrected), it is not "too quick". For a
        new version of the letter, the same moment and random part, with that version. A
        missing, forged or too old stamp is not kept: the form gets a fresh one.
        """
        if not value:
            return self.stamp(version)
        try:
            payload, signed_at = self._serializer.loads(
                value, max_age=MAX_AGE, return_timestamp=True
            )
        except (BadSignature, SignatureExpired):
            return self.stamp(version)
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[1], str)):
            return self.stamp(version)  # an older form of stamp, without its random part
        if payload[0] == version:
            return value
        backdated = URLSafeTimedSerializer(
            self._secret,
            salt=_SALT,
            signer=_BackdatedSigner,
            signer_kwargs={"signed_at": int(signed_at.timestamp())},
        )
        return backdated.dumps([version, payload[1]])


def submission_digest(formdata: MultiDict[str, str]) -> str:
    """Return a digest of a sent form, the same only for the same page view's form sent again.

    A browser's retry, a second tap without scripts or a resubmitted page sends the very same
    fields, the stamp's random part included; a form changed before sending it again (a family
    signing one after another on one phone) gives another digest.
    """
    fields = sorted(formdata.items(multi=True))
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()
