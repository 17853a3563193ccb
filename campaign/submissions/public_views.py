"""Open data about appeals and their submissions, and the helpers public pages call."""

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from campaign.appeals.models import Appeal, AppealStatus
from campaign.appeals.operations import appeal_at
from campaign.dossiers.models import DossierSnapshot
from campaign.extensions import csrf, db
from campaign.submissions.clock import DUE_LABELS
from campaign.submissions.forms import UnsubscribeForm
from campaign.submissions.mailings import signature_for_unsubscribe
from campaign.submissions.mailings import unsubscribe as unsubscribe_signer
from campaign.submissions.models import Submission
from campaign.submissions.open_data import ListedAppeal, appeal_facts, listed_appeals, timeline
from campaign.submissions.presenting import CHANNEL_LABELS, STATUS_LABELS
from campaign.urls import public_url_for

bp = Blueprint("submissions", __name__)

# Open data changes when someone signs or an answer comes: a minute old is fresh enough, and
# a crowd reading it costs one render a minute per cache.
CACHE_SECONDS = 60


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/a/<slug>.json")
def appeal_json(slug: str) -> Response:
    """The public facts of one published appeal."""
    appeal = appeal_at(slug)
    if appeal is None or appeal.status is AppealStatus.draft or appeal.latest_version is None:
        abort(404)
    facts = appeal_facts(appeal)
    facts["url"] = public_url_for("signatures.new", slug=appeal.slug)
    return _cached(jsonify(facts))


def listed_item(item: ListedAppeal) -> dict[str, Any]:
    """One listed appeal as open data."""
    latest = item.latest
    return {
        "title": item.appeal.latest_version.title,
        "url": public_url_for("signatures.new", slug=item.appeal.slug),
        "data": public_url_for("submissions.appeal_json", slug=item.appeal.slug),
        "language": item.appeal.language,
        "status": item.appeal.status.value,
        "count": item.count,
        "latest_step": {
            "step": latest.what,
            "on": latest.on.isoformat(),
            "addressee": latest.addressee,
        }
        if latest
        else None,
    }


@bp.get("/a.json")
def appeals_json() -> Response:
    """The published appeals whose owners list them."""
    return _cached(jsonify({"appeals": [listed_item(item) for item in listed_appeals()]}))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> tuple[str, int] | str:
    """Stop messages about an appeal: a button here, or a mail client's one-click POST."""
    signature = signature_for_unsubscribe(token)
    if signature is None:
        return render_template("submissions/unsubscribe.html", invalid=True), 404
    appeal = db.session.get(Appeal, signature.appeal_id)
    form = UnsubscribeForm()
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if request.method == "POST" and (one_click or form.validate_on_submit()):
        stopped = unsubscribe_signer(signature)
        db.session.commit()
        return render_template(
            "submissions/unsubscribe.html", appeal=appeal, done=True, already=not stopped
        )
    already = signature.unsubscribed_at is not None
    return render_template(
        "submissions/unsubscribe.html", appeal=appeal, form=form, already=already
    )


# A mail client's one-click unsubscribe (RFC 8058) posts without our CSRF token; the signed
# token in the address is what authorises it, and it only ever stops messages.
csrf.exempt("campaign.submissions.public_views.unsubscribe")


@bp.app_template_global()
def appeal_timeline(appeal: Appeal) -> list[Any]:
    """The public timeline of an appeal's submissions (for its page)."""
    return timeline(appeal)


@bp.app_template_global()
def snapshot_submissions(snapshot: DossierSnapshot) -> list[Submission]:
    """The submissions a snapshot was part of, once sent (for /verify)."""
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.snapshot_id == snapshot.id, Submission.sent_on.is_not(None))
            .order_by(Submission.sent_on, Submission.id)
        )
    )


bp.add_app_template_global(STATUS_LABELS, "submission_status_labels")
bp.add_app_template_global(CHANNEL_LABELS, "submission_channel_labels")
bp.add_app_template_global(DUE_LABELS, "submission_due_labels")
