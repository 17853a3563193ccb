"""Organiser pages: the dashboard, writing, previewing, publishing and versions of an appeal."""

import re
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from campaign.accounts.models import Membership, Role
from campaign.appeals.access import current_membership, requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.forms import (
    MAX_ADDRESSEES,
    NESTED_TOO_DEEPLY,
    ActionForm,
    AppealForm,
    DeleteDraftForm,
    PublishForm,
)
from campaign.appeals.letters import (
    DiffLine,
    diff_letters,
    draft_letter,
    has_unpublished_changes,
    missing_for_publishing,
    version_letter,
)
from campaign.appeals.models import Appeal, AppealStatus, AppealVersion
from campaign.appeals.operations import (
    AlreadyPublished,
    DraftChanged,
    InvalidTransition,
    NestedTooDeeply,
    NothingToPublish,
    NotReadyToPublish,
    SlugTaken,
    close_appeal,
    create_appeal,
    delete_draft,
    has_signatures,
    publish_appeal,
    reopen_appeal,
    signature_counts,
    typed_letter,
    update_appeal,
)
from campaign.extensions import db
from campaign.i18n import current_language


@bp.get("/")
@login_required
def index() -> str:
    """List the appeals the user belongs to."""
    latest = (
        select(AppealVersion.appeal_id, func.max(AppealVersion.number).label("number"))
        .group_by(AppealVersion.appeal_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Appeal, Membership.role, latest.c.number)
        .join(Membership, Membership.appeal_id == Appeal.id)
        .outerjoin(latest, latest.c.appeal_id == Appeal.id)
        .where(Membership.user_id == current_user.id)
        .order_by(Appeal.updated_at.desc())
    ).all()
    counts = signature_counts([appeal.id for appeal, _role, _number in rows])
    return render_template("appeals/index.html", rows=rows, counts=counts)


def _appeal_form(appeal: Appeal | None = None) -> AppealForm:
    form = AppealForm(
        obj=appeal,
        language=current_language(),
        current_deadline=appeal.deadline if appeal else None,
        fixed_zone=appeal.time_zone if appeal and has_signatures(appeal.id) else None,
    )
    if appeal is None and request.method == "GET":
        form.language.data = current_language()
    has_room = len(form.addressees.entries) < MAX_ADDRESSEES
    if request.method == "GET" and appeal is not None and appeal.addressees and has_room:
        # A blank row, so that another addressee can be added without scripts.
        form.addressees.append_entry()
    return form


def _add_addressee_row(form: AppealForm) -> bool:
    """Handle the "add an addressee" button: one more blank row, nothing saved."""
    if not form.add_addressee.data:
        return False
    if len(form.addressees.entries) < MAX_ADDRESSEES:
        form.addressees.append_entry()
    return True


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Response | str:
    """Start a draft appeal."""
    form = _appeal_form()
    if request.method == "POST" and not _add_addressee_row(form) and form.validate_on_submit():
        try:
            appeal = create_appeal(current_user, form.to_data())
            db.session.commit()
        except (SlugTaken, IntegrityError):
            db.session.rollback()
            form.slug.errors.append(_("Another appeal already uses this address."))
        else:
            flash(_("The draft is saved."), "success")
            return redirect(url_for("appeals.show", appeal_id=appeal.id))
    return render_template("appeals/new.html", form=form)


@bp.get("/<int:appeal_id>/")
@requires_role(Role.advocate)
def show(appeal: Appeal) -> str:
    """The appeal's page for its members: status, versions, actions."""
    return render_template(
        "appeals/show.html",
        appeal=appeal,
        action_form=ActionForm(),
        unpublished=has_unpublished_changes(appeal),
        missing=missing_for_publishing(appeal),
        count=signature_counts([appeal.id])[appeal.id],
        can_publish=current_membership().role.includes(Role.editor),
        is_owner=current_membership().role is Role.owner,
    )


@bp.route("/<int:appeal_id>/edit", methods=["GET", "POST"])
@requires_role(Role.editor)
def edit(appeal: Appeal) -> Response | str:
    """Change the draft (of the next version, once published)."""
    form = _appeal_form(appeal)
    conflict: list[DiffLine] | None = None
    if request.method == "POST" and not _add_addressee_row(form) and form.validate_on_submit():
        typed = form.to_data()
        try:
            update_appeal(appeal, typed, seen_revision=form.draft_revision.data)
            db.session.commit()
        except DraftChanged:
            # Saved elsewhere meanwhile: show how the saved draft differs from what was typed,
            # and keep the typed text; saving it again replaces the saved draft knowingly.
            db.session.rollback()
            conflict = diff_letters(draft_letter(appeal), typed_letter(typed))
            form.draft_revision.data = appeal.draft_revision
        except (SlugTaken, IntegrityError):
            db.session.rollback()
            form.slug.errors.append(_("Another appeal already uses this address."))
        else:
            flash(_("The draft is saved."), "success")
            return redirect(url_for("appeals.show", appeal_id=appeal.id))
    return render_template("appeals/edit.html", form=form, appeal=appeal, conflict=conflict)


@bp.post("/<int:appeal_id>/publish")
@requires_role(Role.editor)
def publish(appeal: Appeal) -> Response:
    """Freeze the draft as a new version."""
    form = PublishForm()
    if form.validate_on_submit():
        try:
            version = publish_appeal(appeal, current_user, seen_revision=form.draft_revision.data)
        except DraftChanged:
            db.session.rollback()
            flash(
                _(
                    "Nothing was published: the draft was changed and saved after this page "
                    "showed it. Check the draft as it is now, then publish again."
                ),
                "error",
            )
        except NotReadyToPublish:
            db.session.rollback()
            flash(_("Give the letter a title, an addressee and a text before publishing."), "error")
        except NestedTooDeeply:
            db.session.rollback()
            flash(str(NESTED_TOO_DEEPLY), "error")
        except NothingToPublish:
            db.session.rollback()
            flash(_("Nothing has changed since the last version."), "error")
        else:
            db.session.commit()
            flash(_("Version %(number)d is published.", number=version.number), "success")
    return redirect(url_for("appeals.show", appeal_id=appeal.id))


@bp.route("/<int:appeal_id>/delete", methods=["GET", "POST"])
@requires_role(Role.owner)
def delete(appeal: Appeal) -> Response | str:
    """Delete a draft that was never published, after a confirmation page."""
    kept = _(
        "A published appeal cannot be deleted: its versions were public and may have been "
        "signed. Close it to stop new signatures."
    )
    if appeal.versions:
        flash(kept, "error")
        return redirect(url_for("appeals.show", appeal_id=appeal.id))
    # The revision comes from the page that asked for the deletion, never from the appeal.
    form = (
        DeleteDraftForm()
        if request.method == "POST"
        else DeleteDraftForm(draft_revision=appeal.draft_revision)
    )
    if form.validate_on_submit():
        title = appeal.title
        try:
            delete_draft(appeal, seen_revision=form.draft_revision.data)
        except DraftChanged:
            db.session.rollback()
            flash(
                _(
                    "Nothing was deleted: the draft was changed and saved after this page "
                    "showed it. Look at it again before deleting it."
                ),
                "error",
            )
            return redirect(url_for("appeals.delete", appeal_id=appeal.id))
        except AlreadyPublished:
            db.session.rollback()
            flash(kept, "error")
            return redirect(url_for("appeals.show", appeal_id=appeal.id))
        db.session.commit()
        flash(_("The draft “%(title)s” is deleted.", title=title), "success")
        return redirect(url_for("appeals.index"))
    return render_template("appeals/delete.html", appeal=appeal, form=form)


@bp.post("/<int:appeal_id>/close")
@requires_role(Role.owner)
def close(appeal: Appeal) -> Response:
    """Stop accepting signatures."""
    return _transition(appeal, close_appeal, _("The appeal is closed to new signatures."))


@bp.post("/<int:appeal_id>/reopen")
@requires_role(Role.owner)
def reopen(appeal: Appeal) -> Response:
    """Accept signatures again."""
    return _transition(appeal, reopen_appeal, _("The appeal accepts signatures again."))


def _transition(appeal: Appeal, operation: Callable[[Appeal], None], done: str) -> Response:
    if ActionForm().validate_on_submit():
        try:
            operation(appeal)
        except InvalidTransition:
            flash(_("The appeal's status does not allow this."), "error")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for("appeals.show", appeal_id=appeal.id))


def _version_or_404(appeal: Appeal, number: int) -> AppealVersion:
    version = db.session.scalar(
        select(AppealVersion).where(
            AppealVersion.appeal_id == appeal.id, AppealVersion.number == number
        )
    )
    if version is None:
        abort(404)
    return version


@bp.get("/<int:appeal_id>/versions/<int:number>")
@requires_role(Role.advocate)
def version(appeal: Appeal, number: int) -> str:
    """A published version as it was frozen, with its fingerprint."""
    return render_template(
        "appeals/version.html", appeal=appeal, version=_version_or_404(appeal, number)
    )


def _version_number(value: str | None) -> int | None:
    """A version number from a query argument: plain digits, not too many; else None."""
    return int(value) if value and re.fullmatch(r"[0-9]{1,6}", value) else None


@bp.get("/<int:appeal_id>/diff")
@requires_role(Role.advocate)
def diff(appeal: Appeal) -> str:
    """Compare two versions (or the latest version with the draft)."""
    numbers = [v.number for v in appeal.versions]
    if not numbers:
        abort(404)
    old_number = _version_number(request.args.get("old")) or max(numbers[-1] - 1, numbers[0])
    new_arg = request.args.get("new", "")
    old = _version_or_404(appeal, old_number)
    if new_arg == "draft":
        new_letter, new_label = draft_letter(appeal), "draft"
    else:
        new = _version_or_404(appeal, _version_number(new_arg) or numbers[-1])
        new_letter, new_label = version_letter(new), str(new.number)
    return render_template(
        "appeals/diff.html",
        appeal=appeal,
        old=old,
        new_label=new_label,
        lines=diff_letters(version_letter(old), new_letter),
        numbers=numbers,
    )


@bp.app_template_global()
def status_label(status: AppealStatus) -> str:
    """Name an appeal's status in the page language."""
    return {
        AppealStatus.draft: _("Draft"),
        AppealStatus.open: _("Open"),
        AppealStatus.closed: _("Closed"),
    }[status]
