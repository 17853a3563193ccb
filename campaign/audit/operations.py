"""Record audit events; the caller's transaction commits them with the change they describe."""

import re
from typing import Any

from flask import has_request_context
from flask_login import current_user

from campaign.audit.actions import ACTIONS
from campaign.audit.models import AuditEvent
from campaign.extensions import db

# Details are ids, counts, flags and codes ("csv", "duplicate"): never text someone typed.
_CODE = re.compile(r"[a-z0-9_.:-]{0,64}\Z")


class UnknownAction(ValueError):
    """The action is not in campaign.audit.actions.ACTIONS."""


def record_event(
    appeal_id: int,
    action: str,
    *,
    subject: tuple[str, int] | None = None,
    actor_id: int | None = None,
    actor_deleted: bool = False,
    via: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session (flushed with the change, never committed here).

    The actor defaults to the member logged in for this request (not for via="signer": what a
    signer's own link set off is hers, whoever is logged in); `via` to "web" in a request and
    "cli" elsewhere. `actor_deleted` says that the member who asked (a job's requester) has
    deleted her account since. Detail values must be numbers, booleans, None or short lower-case
    codes.
    """
    if action not in ACTIONS:
        raise UnknownAction(f"Unknown audit action {action!r}: add it to audit/actions.py.")
    for name, value in details.items():
        if not _is_code(value):
            raise ValueError(f"Audit detail {name!r} must be a number, a flag or a code.")
    in_request = has_request_context()
    acted = via != "signer" and not actor_deleted
    if actor_id is None and acted and in_request and current_user.is_authenticated:
        actor_id = current_user.id
    event = AuditEvent(
        appeal_id=appeal_id,
        actor_id=actor_id,
        actor_deleted=actor_deleted and actor_id is None,
        via=via or ("web" if in_request else "cli"),
        action=action,
        subject_type=subject[0] if subject else "",
        subject_id=subject[1] if subject else None,
        details=details,
    )
    db.session.add(event)
    return event


def _is_code(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, list | tuple):
        return all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    return isinstance(value, str) and _CODE.match(value) is not None
