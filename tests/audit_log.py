"""The audit events a test reads: all but those the fixtures log while setting an appeal up."""

from sqlalchemy import Select, func, select

from campaign.audit.models import AuditEvent

# A published appeal, and the sign form settings that tests/private_values.py saves.
SETTING_UP = ("appeal.published", "sign_form.saved")


def logged() -> Select[tuple[AuditEvent]]:
    """Select the events, leaving out those of SETTING_UP."""
    return select(AuditEvent).where(AuditEvent.action.not_in(SETTING_UP))


def logged_count() -> Select[tuple[int]]:
    """Count the events that logged() selects."""
    return select(func.count()).select_from(logged().subquery())
