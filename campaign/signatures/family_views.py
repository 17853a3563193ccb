"""The desk's families: each person concerned with her signers and their own answers; merge,
split and recompute."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import db
from campaign.i18n import current_language
from campaign.signatures.desk_forms import MergeForm, RecomputeForm, SplitForm
from campaign.signatures.families import recompute_families, unplaced_count
from campaign.signatures.family_desk import (
    EveryoneChosen,
    FamilyChanged,
    FamilyView,
    NobodyChosen,
    NotThisAppeals,
    SameFamily,
    TooFewFamilies,
    family_page,
    family_view,
    merge_families,
    split_family,
)
from campaign.signatures.presenting import region_label


def _regions(families: list[FamilyView]) -> dict[int, str]:
    language = current_language()
    return {
        m.signature.id: region_label(m.signature.region, m.signature.region_other, language)
        for family in families
        for m in family.members
    }


def _families_page(
    appeal: Appeal, *, selected: list[int] | None = None, status: int = 200
) -> tuple[str, int]:
    query = request.values.get("q", "").strip()[:100]
    page = family_page(appeal.id, query=query, page=request.values.get("page", 1, type=int))
    html = render_template(
        "appeals/families.html",
        appeal=appeal,
        page=page,
        query=query,
        selected=set(selected or []),
        regions=_regions(page.families),
        unplaced=unplaced_count(appeal.id),
        merge_form=MergeForm(formdata=None),
        recompute_form=RecomputeForm(formdata=None),
    )
    return html, status


@bp.get("/<int:appeal_id>/families")
@requires_role(Role.editor)
def families(appeal: Appeal) -> tuple[str, int]:
    """The families: a relative concerned, her signers, and what each of them said."""
    return _families_page(appeal)


@bp.post("/<int:appeal_id>/families/merge")
@requires_role(Role.editor)
def merge_families_view(appeal: Appeal) -> Response | tuple[str, int]:
    """Merge the ticked families into one (they are one person concerned)."""
    form = MergeForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = form.family.data
    try:
        kept = merge_families(appeal.id, chosen, actor_id=current_user.id)
    except NotThisAppeals:
        db.session.rollback()
        abort(404)
    except (SameFamily, TooFewFamilies, FamilyChanged) as refused:
        db.session.rollback()
        flash(_refusal(refused), "error")
        status = 409 if isinstance(refused, FamilyChanged) else 400
        return _families_page(appeal, selected=chosen, status=status)
    db.session.commit()
    flash(_("The families are merged into one."), "success")
    return redirect(url_for("appeals.families", appeal_id=appeal.id, _anchor=f"family-{kept}"))


def _refusal(refused: Exception) -> str:
    if isinstance(refused, SameFamily):
        return _("A family cannot be merged with itself: choose two different families.")
    if isinstance(refused, TooFewFamilies):
        return _("Choose at least two families to merge.")
    return _(
        "Nothing was merged: a family you chose changed after this page showed it. "
        "The families are shown as they are now."
    )


@bp.post("/<int:appeal_id>/families/recompute")
@requires_role(Role.editor)
def recompute_families_view(appeal: Appeal) -> Response:
    """Place every signer again; what organisers merged or split stays."""
    if not RecomputeForm().validate_on_submit():
        abort(400)
    result = recompute_families(appeal.id)
    record_event(
        appeal.id,
        "families.recomputed",
        subject=("appeal", appeal.id),
        actor_id=current_user.id,
        families=result.families,
        moved=result.moved,
    )
    db.session.commit()
    flash(
        ngettext(
            "The families are recomputed: %(num)d signature moved.",
            "The families are recomputed: %(num)d signatures moved.",
            result.moved,
        ),
        "success",
    )
    return redirect(url_for("appeals.families", appeal_id=appeal.id))


@bp.route("/<int:appeal_id>/families/<int:family_id>/split", methods=["GET", "POST"])
@requires_role(Role.editor)
def split_family_view(appeal: Appeal, family_id: int) -> Response | tuple[str, int]:
    """Choose the signers who are about someone else: they leave for a family of their own."""
    form = SplitForm()
    chosen: list[int] = []
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        chosen = form.signature.data
        try:
            split_family(appeal.id, family_id, chosen, actor_id=current_user.id)
        except NotThisAppeals:
            db.session.rollback()
            abort(404)
        except NobodyChosen:
            db.session.rollback()
            error, status = _("Tick the signers who leave the family."), 400
        except EveryoneChosen:
            db.session.rollback()
            error, status = (
                _(
                    "At least one signer stays in the family: untick those who are about this "
                    "person concerned."
                ),
                400,
            )
        except FamilyChanged:
            db.session.rollback()
            error, status = (
                _(
                    "Nothing was moved: who is in this family changed after the page showed "
                    "it. Here it is as it is now."
                ),
                409,
            )
        else:
            db.session.commit()
            flash(_("The signers you ticked have a family of their own now."), "success")
            return redirect(url_for("appeals.families", appeal_id=appeal.id))
    try:
        family = family_view(appeal.id, family_id)
    except NotThisAppeals:
        abort(404)
    except FamilyChanged:
        flash(_("This family no longer exists: it was merged or recomputed."), "error")
        return redirect(url_for("appeals.families", appeal_id=appeal.id))
    html = render_template(
        "appeals/split_family.html",
        appeal=appeal,
        family=family,
        regions=_regions([family]),
        form=form,
        chosen=set(chosen),
        error=error,
    )
    return html, status
