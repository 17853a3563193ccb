"""The signatures blueprint (the public appeal page and signing), shared by its view modules."""

from flask import Blueprint, abort, redirect, request, url_for

from campaign.appeals.models import Appeal, AppealStatus
from campaign.appeals.operations import appeal_at, appeal_formerly_at
from campaign.signatures.operations import confirmation_days
from campaign.time_zones import show_times_in

bp = Blueprint("signatures", __name__, url_prefix="/a")


@bp.context_processor
def _confirmation_lifetime() -> dict[str, int]:
    return {"confirm_days": confirmation_days()}


def published_or_404(slug: str) -> Appeal:
    """Return the published appeal at this address, following a move; 404 otherwise."""
    appeal = appeal_at(slug)
    if appeal is None:
        _follow_the_move(slug)
    if appeal is None or appeal.status is AppealStatus.draft or appeal.latest_version is None:
        abort(404)
    show_times_in(appeal.time_zone)
    return appeal


def _follow_the_move(slug: str) -> None:
    """Send a request for an appeal's former address to the same page at its address now."""
    moved = appeal_formerly_at(slug)
    if moved is None or request.endpoint is None:
        return
    arguments = {**request.args.to_dict(flat=False), **(request.view_args or {})}
    arguments["slug"] = moved.slug
    # Temporary (not cached: the appeal may move back) and keeping the method, so that a form
    # sent from a page opened before the move is sent again to the new address.
    abort(redirect(url_for(request.endpoint, **arguments), 307))
