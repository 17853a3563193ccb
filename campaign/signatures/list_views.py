"""The desk's signatures: the list, one signature's page, and moderation one by one or in bulk."""

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from campaign.accounts.models import Role, User
from campaign.appeals.access import current_membership, requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal, AppealVersion
from campaign.audit.actions import ACTIONS
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.i18n import current_language
from campaign.signatures.desk_forms import (
    BULK_ACTIONS,
    MAX_BULK,
    BulkConfirmForm,
    BulkForm,
    ModerateForm,
    list_query,
    signatures_list_form,
)
from campaign.signatures.listing import FILTERS, STATUS_LABELS, list_page
from campaign.signatures.models import CustomQuestion, Signature
from campaign.signatures.moderation import (
    BulkRefused,
    NotModeratable,
    ReasonRequired,
    SignatureChanged,
    can_take,
    flag_signature,
    moderate_signatures,
    reject_signature,
    restore_signature,
)
from campaign.signatures.presenting import region_label
from campaign.signatures.retention import last_erasure


def _sees_private() -> bool:
    return current_membership().role.includes(Role.editor)


def _page_id(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@bp.get("/<int:appeal_id>/signatures")
@requires_role(Role.advocate)
def signatures(appeal: Appeal) -> str:
    """Every signature of the appeal: search, filters, order, a page at a time."""
    language = current_language()
    form = signatures_list_form(appeal, language)
    private = _sees_private()
    page = None
    if form.validate():
        page = list_page(
            appeal,
            list_query(form),
            after=_page_id("after"),
            before=_page_id("before"),
            private=private,
        )
    # Only the form's own fields go into the pages' links (not "appeal_id", "_external"...).
    kept = {name: request.args[name] for name in form._fields if request.args.get(name)}
    return render_template(
        "appeals/signatures.html",
        appeal=appeal,
        form=form,
        filters=[form[f.name] for f in FILTERS],
        page=page,
        kept=kept,
        private=private,
        bulk=BulkForm(formdata=None) if private else None,
        regions=_regions(page.signatures if page else [], language),
        versions=_version_numbers(appeal),
        status_labels={status: str(label) for status, label in STATUS_LABELS.items()},
    )


@bp.post("/<int:appeal_id>/signatures/bulk")
@requires_role(Role.editor)
def bulk_review(appeal: Appeal) -> Response | str:
    """Show the ticked signatures and what will be done, to confirm."""
    form = BulkForm()
    ids = list(dict.fromkeys(form.signature.data or []))
    if not form.validate_on_submit() or not ids:
        flash(
            form.action.errors[0]
            if form.action.errors
            else _("Tick at least one signature, then choose what to do."),
            "error",
        )
        return redirect(_list_url(appeal))
    if len(ids) > MAX_BULK:
        abort(400)
    chosen = _of_appeal(appeal, ids)
    # Those that cannot take the step where they stand are left out now, and said so, rather
    # than refused once she has confirmed.
    left_out = [s.id for s in chosen if not can_take(s, form.action.data)]
    chosen = [s for s in chosen if s.id not in left_out]
    if not chosen:
        flash(_none_can_take(), "error")
        return redirect(_list_url(appeal))
    confirm = BulkConfirmForm(formdata=None, action=form.action.data)
    confirm.seen.data = {s.id: s.revision for s in chosen}
    return _render_confirm(appeal, confirm, chosen, left_out=left_out)


@bp.post("/<int:appeal_id>/signatures/bulk/confirm")
@requires_role(Role.editor)
def bulk_moderate(appeal: Appeal) -> Response | str:
    """Take the confirmed step for every signature shown, or for none."""
    form = BulkConfirmForm()
    step = form.action.data
    if step not in BULK_ACTIONS or form.seen.data is None:
        abort(400)
    chosen = _of_appeal(appeal, list(form.seen.data))
    if not form.validate_on_submit():
        return _render_confirm(appeal, form, chosen)
    try:
        moderate_signatures(
            appeal.id,
            form.seen.data,
            step,
            actor_id=current_user.id,
            reason=form.reason.data or "",
        )
    except ReasonRequired:
        db.session.rollback()
        form.reason.errors = [_("Say why these signatures are rejected.")]
        return _render_confirm(appeal, form, chosen)
    except BulkRefused as refused:
        db.session.rollback()
        # Moved meanwhile where they cannot take the step (another editor, a withdrawal): left
        # out, and the others shown to confirm again.
        chosen = [s for s in chosen if s.id not in refused.unable]
        if not chosen:
            flash(_none_can_take(), "error")
            return redirect(_list_url(appeal))
        form.seen.data = {i: r for i, r in form.seen.data.items() if i not in refused.unable}
        if refused.changed:
            _flash_changed(refused.changed)
        return _render_confirm(appeal, form, chosen, left_out=refused.unable, refused=refused)
    except SignatureChanged:
        db.session.rollback()
        flash(_changed_message(), "error")
        return redirect(_list_url(appeal))
    db.session.commit()
    flash(
        ngettext(
            "%(action)s: %(num)d signature.",
            "%(action)s: %(num)d signatures.",
            len(chosen),
            action=BULK_ACTIONS[step],
        ),
        "success",
    )
    return redirect(_list_url(appeal))


@bp.get("/<int:appeal_id>/signatures/<int:signature_id>")
@requires_role(Role.advocate)
def signature(appeal: Appeal, signature_id: int) -> str:
    """One signature: every field (private ones for owners and editors), and its history."""
    found = _one(appeal, signature_id)
    return _render_detail(appeal, found, ModerateForm(formdata=None, revision=found.revision))


@bp.post("/<int:appeal_id>/signatures/<int:signature_id>")
@requires_role(Role.editor)
def moderate(appeal: Appeal, signature_id: int) -> Response | str:
    """Flag, reject (with a reason) or restore one signature, as the page showed it."""
    found = _one(appeal, signature_id)
    form = ModerateForm()
    if not form.validate_on_submit():
        return _render_detail(appeal, found, form)
    seen = form.revision.data if form.revision.data is not None else -1
    try:
        if form.reject.data:
            reject_signature(
                found, seen_revision=seen, actor_id=current_user.id, reason=form.reason.data or ""
            )
            message = _("The signature is rejected: it no longer counts.")
        elif form.flag.data:
            flag_signature(
                found, seen_revision=seen, actor_id=current_user.id, reason=form.reason.data or ""
            )
            message = _("The signature is flagged for review: it no longer counts meanwhile.")
        elif form.restore.data:
            restore_signature(found, seen_revision=seen, actor_id=current_user.id)
            message = _("The signature is restored: it counts again.")
        else:
            abort(400)
    except ReasonRequired:
        db.session.rollback()
        form.reason.errors = [_("Say why this signature is rejected.")]
        return _render_detail(appeal, found, form)
    except SignatureChanged:
        db.session.rollback()
        flash(_changed_message(), "error")
        return redirect(url_for("appeals.signature", appeal_id=appeal.id, signature_id=found.id))
    except NotModeratable as refused:
        db.session.rollback()
        flash(
            _(
                "Nothing was done: a signature that is %(status)s cannot take this step.",
                status=STATUS_LABELS[refused.status],
            ),
            "error",
        )
        return redirect(url_for("appeals.signature", appeal_id=appeal.id, signature_id=found.id))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("appeals.signature", appeal_id=appeal.id, signature_id=found.id))


def _list_url(appeal: Appeal) -> str:
    return url_for("appeals.signatures", appeal_id=appeal.id)


def _changed_message() -> str:
    return _(
        "Nothing was done: a signature changed after this page showed it (moderated in another "
        "window, or withdrawn by its signer). Look at it again as it is now."
    )


def _none_can_take() -> str:
    return _(
        "Nothing was done: none of the ticked signatures can take this step where they stand "
        "(withdrawn, waiting for confirmation, or already there)."
    )


def _flash_changed(numbers: list[int]) -> None:
    flash(
        _(
            "Nothing was done: these signatures changed after the page showed them: "
            "No. %(numbers)s. They are shown below as they are now.",
            numbers=", ".join(str(i) for i in numbers),
        ),
        "error",
    )


def _of_appeal(appeal: Appeal, ids: list[int]) -> list[Signature]:
    """The signatures with these ids, all of this appeal's, or 404."""
    found = list(
        db.session.scalars(
            select(Signature)
            .where(Signature.id.in_(ids), Signature.appeal_id == appeal.id)
            .order_by(Signature.id)
        )
    )
    if len(found) != len(set(ids)):
        abort(404)
    return found


def _one(appeal: Appeal, signature_id: int) -> Signature:
    found = db.session.get(Signature, signature_id)
    if found is None or found.appeal_id != appeal.id:
        abort(404)
    return found


def _render_confirm(
    appeal: Appeal,
    form: BulkConfirmForm,
    chosen: list[Signature],
    *,
    left_out: list[int] | None = None,
    refused: BulkRefused | None = None,
) -> str:
    if refused is not None and refused.changed:
        # Shown again as they are now: confirming again acts on what is seen.
        form.seen.data = {s.id: s.revision for s in chosen}
    return render_template(
        "appeals/signatures_bulk.html",
        appeal=appeal,
        form=form,
        chosen=chosen,
        action_label=BULK_ACTIONS[form.action.data],
        regions=_regions(chosen, current_language()),
        status_labels=STATUS_LABELS,
        left_out=left_out or [],
    )


def _render_detail(appeal: Appeal, found: Signature, form: ModerateForm) -> str:
    language = current_language()
    private = _sees_private()
    questions = db.session.scalars(
        select(CustomQuestion)
        .where(CustomQuestion.appeal_id == appeal.id)
        .order_by(CustomQuestion.position)
    ).all()
    answers = {answer.question_id: answer.value for answer in found.answers}
    shown_answers = [
        (question, answers.get(question.id, ""))
        for question in questions
        if private or not question.private
    ]
    events = db.session.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            AuditEvent.appeal_id == appeal.id,
            AuditEvent.subject_type == "signature",
            AuditEvent.subject_id == found.id,
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    version = db.session.get(AppealVersion, found.version_id)
    erased_at = last_erasure(appeal.id) if private else None
    return render_template(
        "appeals/signature.html",
        appeal=appeal,
        signature=found,
        form=form,
        private=private,
        can_moderate=private,
        region=region_label(found.region, found.region_other, language) if found.region else "",
        version_number=version.number if version else None,
        answers=shown_answers,
        events=[(event, name, ACTIONS.get(event.action, event.action)) for event, name in events],
        status_labels=STATUS_LABELS,
        moderator=db.session.get(User, found.moderated_by_id) if found.moderated_by_id else None,
        # Given before an erasure, her private details are gone: an empty one is not "none".
        erased_at=erased_at if erased_at and found.created_at <= erased_at else None,
    )


def _regions(rows: Any, language: str) -> dict[int, str]:
    return {
        s.id: region_label(s.region, s.region_other, language) if s.region else "" for s in rows
    }


def _version_numbers(appeal: Appeal) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(AppealVersion.id, AppealVersion.number).where(
                AppealVersion.appeal_id == appeal.id
            )
        ).all()
    )
