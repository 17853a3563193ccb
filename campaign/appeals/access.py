"""Who may open an organiser page: members only (404 to others), with a high enough role (403)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g
from flask_login import current_user, login_required

from campaign.accounts.models import Membership, Role
from campaign.accounts.operations import membership_of
from campaign.appeals.models import Appeal
from campaign.extensions import db
from campaign.time_zones import show_times_in


def requires_role(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view taking appeal_id: load the appeal into `appeal`, or refuse.

    A non-member gets 404, so that the page does not even confirm the appeal exists; a member
    whose role is too low gets 403. The role is kept on the view for the tests that walk the
    URL map.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(appeal_id: int, **kwargs: Any) -> Any:
            membership = membership_of(current_user.id, appeal_id)
            if membership is None:
                abort(404)
            if not membership.role.includes(role):
                abort(403)
            appeal = db.session.get(Appeal, appeal_id)
            if appeal is None:
                abort(404)
            g.membership = membership
            show_times_in(appeal.time_zone)
            return view(appeal=appeal, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]
        return login_required(wrapper)

    return decorator


def current_membership() -> Membership:
    """Return the membership that requires_role checked for this request."""
    return g.membership
