"""The desk's pairs view: signatures that may be one signer, side by side, and the decisions."""

import math

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.extensions import db
from campaign.i18n import current_language
from campaign.signatures.desk_forms import PairForm
from campaign.signatures.duplicate_decisions import AlreadyDistinct, keep_one, mark_distinct
from campaign.signatures.duplicates import find_pairs, threshold
from campaign.signatures.models import Signature
from campaign.signatures.moderation import NotModeratable, SignatureChanged
from campaign.signatures.presenting import region_label

PAIRS_PER_PAGE = 25


@bp.get("/<int:appeal_id>/duplicates")
@requires_role(Role.editor)
def duplicates(appeal: Appeal) -> str:
    """Candidate pairs at or above the desk's threshold, highest score first."""
    pairs = find_pairs(appeal.id)
    pages = max(1, math.ceil(len(pairs) / PAIRS_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    shown = pairs[(page - 1) * PAIRS_PER_PAGE : page * PAIRS_PER_PAGE]
    ids = sorted({i for pair in shown for i in (pair.first_id, pair.second_id)})
    signatures = {
        s.id: s
        for s in db.session.scalars(
            select(Signature).where(Signature.id.in_(ids), Signature.appeal_id == appeal.id)
        )
    }
    language = current_language()
    return render_template(
        "appeals/duplicates.html",
        appeal=appeal,
        pairs=[(pair, signatures[pair.first_id], signatures[pair.second_id]) for pair in shown],
        regions={
            s.id: region_label(s.region, s.region_other, language) for s in signatures.values()
        },
        status_labels={"valid": _("counted"), "flagged": _("flagged for review")},
        total=len(pairs),
        page=page,
        pages=pages,
        threshold=threshold(),
    )


@bp.post("/<int:appeal_id>/duplicates")
@requires_role(Role.editor)
def decide_pair(appeal: Appeal) -> Response:
    """Keep A or B and reject the other as its duplicate, or mark the two different people."""
    form = PairForm()
    if not form.validate_on_submit():
        abort(400)
    first = db.session.get(Signature, form.first.data)
    second = db.session.get(Signature, form.second.data)
    if first is None or second is None or {first.appeal_id, second.appeal_id} != {appeal.id}:
        abort(404)
    if first.id == second.id:
        abort(400)
    page = int(form.page.data) if (form.page.data or "").isdigit() else 1
    back = redirect(url_for("appeals.duplicates", appeal_id=appeal.id, page=page))
    try:
        if form.distinct.data:
            mark_distinct(
                first,
                second,
                seen_one=form.first_revision.data,
                seen_other=form.second_revision.data,
                actor_id=current_user.id,
            )
            message = _("Marked as different people: this pair will not be shown again.")
        else:
            kept, duplicate = (first, second) if form.keep_first.data else (second, first)
            seen = (form.first_revision.data, form.second_revision.data)
            seen_kept, seen_duplicate = seen if form.keep_first.data else seen[::-1]
            keep_one(
                kept,
                duplicate,
                seen_kept=seen_kept,
                seen_duplicate=seen_duplicate,
                actor_id=current_user.id,
                reason=_("Duplicate of signature No. %(number)d, which was kept.", number=kept.id),
            )
            message = _(
                "Signature No. %(duplicate)d is rejected as a duplicate of No. %(kept)d.",
                duplicate=duplicate.id,
                kept=kept.id,
            )
    except AlreadyDistinct:
        db.session.rollback()
        flash(_("These two signatures were already marked as different people."), "error")
        return back
    except (SignatureChanged, NotModeratable):
        db.session.rollback()
        flash(
            _(
                "Nothing was done: one of the two signatures changed after this page showed it "
                "(moderated, withdrawn, or decided in another window). The pairs are shown "
                "again as they are now."
            ),
            "error",
        )
        return back
    db.session.commit()
    flash(message, "success")
    return back
