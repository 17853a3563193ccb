"""Organiser pages about signing: the sign form's settings, the preview, signature images."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from campaign.accounts.models import Role
from campaign.appeals.access import current_membership, requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.letters import draft_letter, has_unpublished_changes, missing_for_publishing
from campaign.appeals.models import Appeal
from campaign.extensions import db
from campaign.i18n import current_language
from campaign.signatures.fields import BUILT_IN_FIELDS
from campaign.signatures.models import Signature
from campaign.signatures.regions import region_choices
from campaign.signatures.settings import (
    AnswersStayPrivate,
    QuestionHasAnswers,
    SettingsChanged,
    save_sign_form_settings,
    sign_form_settings,
)
from campaign.signatures.settings_forms import (
    fill_settings_form,
    settings_data,
    settings_form_class,
)
from campaign.signatures.views import new_form, render_appeal_page


@bp.get("/<int:appeal_id>/preview")
@requires_role(Role.advocate)
def preview(appeal: Appeal) -> tuple[str, int]:
    """The public page as it will look once the draft is published, form included.

    Editors can publish from here: the button carries the draft revision previewed, so what is
    published is what they read.
    """
    publish_number = None
    if (
        current_membership().role.includes(Role.editor)
        and not missing_for_publishing(appeal)
        and has_unpublished_changes(appeal)
    ):
        publish_number = appeal.latest_version.number + 1 if appeal.latest_version else 1
    return render_appeal_page(
        appeal,
        new_form(appeal, bound=False),
        preview_letter=draft_letter(appeal),
        publish_number=publish_number,
    )


@bp.route("/<int:appeal_id>/settings", methods=["GET", "POST"])
@requires_role(Role.editor)
def settings(appeal: Appeal) -> BaseResponse | str:
    """Choose what the sign form asks."""
    current = sign_form_settings(appeal)
    form_class = settings_form_class(region_choices(appeal.country, current_language(), None))
    if request.method == "GET":
        form = form_class(formdata=None)
        fill_settings_form(form, current)
    else:
        form = form_class()
        if form.add_question.data:
            form.questions.append_entry()
        elif form.validate_on_submit():
            try:
                save_sign_form_settings(
                    appeal, settings_data(form), seen_revision=form.revision.data
                )
            except SettingsChanged:
                # Saved elsewhere meanwhile: keep what was chosen here; saving it again from
                # this page (which now shows the new revision) replaces theirs knowingly.
                db.session.rollback()
                form.revision.data = sign_form_settings(appeal).revision
                flash(
                    _(
                        "Not saved: someone saved the sign form settings after this page showed "
                        "them. Your choices are below; save again to replace theirs."
                    ),
                    "error",
                )
            except AnswersStayPrivate as refused:
                db.session.rollback()
                message = _(
                    "“%(label)s” already has answers given for the organisers only: it cannot "
                    "be made public.",
                    label=refused.label,
                )
                flash(message, "error")
            except QuestionHasAnswers as refused:
                db.session.rollback()
                message = _(
                    "“%(label)s” already has answers: it can be edited but not removed.",
                    label=refused.label,
                )
                flash(message, "error")
            else:
                db.session.commit()
                flash(_("The sign form settings are saved."), "success")
                return redirect(url_for("appeals.settings", appeal_id=appeal.id))
    return render_template(
        "appeals/settings.html", appeal=appeal, form=form, fields=BUILT_IN_FIELDS
    )


@bp.get("/<int:appeal_id>/signatures/<int:signature_id>/signature.png")
@requires_role(Role.advocate)
def signature_image(appeal: Appeal, signature_id: int) -> Response:
    """A drawn signature, for the appeal's members only."""
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.appeal_id != appeal.id or signature.image is None:
        abort(404)
    response = Response(signature.image.png, mimetype="image/png")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response
