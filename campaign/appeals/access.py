"""Who may open an organiser page: members only (404 to others), with a high enough role (403),
logged in with two steps when the appeal's owners require it."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from campaign.accounts.memberships import membership_of
from campaign.accounts.models import Membership, Role, User
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import db
from campaign.time_zones import show_times_in


def requires_role(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view taking appeal_id: load the appeal into `appeal`, or refuse.

    A non-member gets 404, so that the page does not even confirm the appeal exists; a member
    without two-step login, when the appeal requires it, is sent to set it up first; a member
    whose role is too low gets 403. The role is kept on the view for the tests that walk the
    URL map.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(appeal_id: int, **kwargs: Any) -> Any:
            membership = membership_of(current_user.id, appeal_id)
            if membership is None:
                abort(404)
            appeal = db.session.get(Appeal, appeal_id)
            if appeal is None:
                abort(404)
            if appeal.require_two_factor and not current_user.two_factor_enabled:
                return _ask_for_two_factor(appeal)
            if not membership.role.includes(role):
                abort(403)
            g.membership = membership
            show_times_in(appeal.time_zone)
            return view(appeal=appeal, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]
        return login_required(wrapper)

    return decorator


def may_open(endpoint: str) -> bool:
    """Tell whether this request's member has the role that the organiser page requires.

    Pages link only to what the member may open (an advocate sees no link to the audit log);
    the role is the one its view declares with requires_role, so the two cannot disagree.
    """
    membership = g.get("membership")
    required = getattr(current_app.view_functions.get(endpoint), "required_role", None)
    return membership is not None and required is not None and membership.role.includes(required)


def current_membership() -> Membership:
    """Return the membership that requires_role checked for this request."""
    return g.membership


def _ask_for_two_factor(appeal: Appeal) -> Any:
    flash(
        _(
            "The owners of “%(title)s” ask every member to log in with two steps. Set it up "
            "to open the appeal's pages.",
            title=appeal.title,
        ),
        "error",
    )
    target = request.full_path if request.method == "GET" else url_for("appeals.index")
    return redirect(url_for("accounts.two_factor", next=target.rstrip("?")))


class TwoFactorMissing(Exception):
    """Whoever requires two-step login of every member must use it herself."""


def require_two_factor(appeal: Appeal, required: bool, by: User) -> None:
    """Make every member log in with two steps to open the appeal's pages, or stop.

    An owner without it would be sent to set it up by her own setting: TwoFactorMissing.
    """
    if required and not by.two_factor_enabled:
        raise TwoFactorMissing
    if appeal.require_two_factor != required:
        appeal.require_two_factor = required
        record_event(
            appeal.id,
            "appeal.two_factor_required" if required else "appeal.two_factor_not_required",
            actor_id=by.id,
        )
    db.session.flush()
