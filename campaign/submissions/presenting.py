"""Words for a submission's status, channel and dossier, on the desk and on public pages."""

from flask_babel import LazyString, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from campaign.audit.wording import register_words
from campaign.dossiers.models import DossierSnapshot, Edition
from campaign.dossiers.page_jobs import edition_name
from campaign.submissions.forms import FOLLOWUP_CHOICES, SCAN_CHOICES

STATUS_LABELS: dict[str, LazyString] = {
    "planned": _l("planned"),
    "sent": _l("sent, awaiting registration"),
    "registered": _l("registered"),
    "extended": _l("registered, term extended"),
    "overdue": _l("overdue"),
    "answered": _l("answered"),
    "partly": _l("partly answered"),
    "refused": _l("refused"),
    "forwarded": _l("forwarded"),
}
CHANNEL_LABELS: dict[str, LazyString] = {
    "post": _l("by post"),
    "in_person": _l("in person"),
    "online": _l("online reception"),
    "email": _l("e-mail"),
    "other": _l("other channel"),
}


def _edition_words(code: str) -> str | None:
    return edition_name(Edition(code)) if code in {edition.value for edition in Edition} else None


# The audit log's words for the codes that dossiers and submissions record (audit.wording).
register_words("channel", CHANNEL_LABELS)
register_words("edition", _edition_words)
register_words("kind", STATUS_LABELS, action="submission.answered")
register_words("kind", {c.value: c.label for c in SCAN_CHOICES}, action="submission.scan_added")
register_words(
    "kind", {c.value: c.label for c in FOLLOWUP_CHOICES}, action="submission.followup_drafted"
)


def snapshot_label(snapshot: DossierSnapshot) -> str:
    """Name a snapshot in a list of the appeal's: its edition, when it was made (in the
    page's time zone, the appeal's on its pages) and its short id, as the Dossiers tab shows."""
    signed = f" · {_('signed')}" if snapshot.signed else ""
    made = format_datetime(snapshot.created_at, "short")
    return f"{edition_name(snapshot.edition)}{signed}, {made} · {snapshot.id[:8]}"
