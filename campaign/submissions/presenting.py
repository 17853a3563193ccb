"""Words for a submission's status and channel, on the desk and on public pages."""

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

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
