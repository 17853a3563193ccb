"""Organiser pages about signing: the sign form's settings, the preview, signature images."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.models import Appeal
from campaign.appeals.operations import draft_letter
from campaign.appeals.views import bp
from campaign.extensions import db
from campaign.i18n import current_language
from campaign.signatures.fields import BUILT_IN_FIELDS
from campaign.signatures.forms import settings_form_class
from campaign.signatures.models import FieldMode, Signature
from campaign.signatures.operations import (
    QuestionData,
    SettingsData,
    field_mode,
    save_sign_form_settings,
    sign_form_settings,
)
from campaign.signatures.regions import region_choices
from campaign.signatures.views import new_form, render_appeal_page


@bp.get("/<int:appeal_id>/preview")
@requires_role(Role.advocate)
def preview(appeal: Appeal) -> tuple[str, int]:
    """The public page as it will look once the draft is published, form included."""
    return render_appeal_page(
        appeal, new_form(appeal, bound=False), preview_letter=draft_letter(appeal)
    )


@bp.route("/<int:appeal_id>/settings", methods=["GET", "POST"])
@requires_role(Role.editor)
def settings(appeal: Appeal) -> BaseResponse | str:
    """Choose what the sign form asks."""
    current = sign_form_settings(appeal)
    regions = region_choices(appeal.country, current_language(), None)
    form_class = settings_form_class(regions)
    if request.method == "GET":
        form = form_class(formdata=None)
        for name in BUILT_IN_FIELDS:
            form[f"mode_{name}"].data = field_mode(current, name).value
        form.regions.data = current.regions or []
        form.relationships.data = "\n".join(current.relationships)
        form.confirm_email.data = current.confirm_email
        form.consent_text.data = current.consent_text
        while len(form.questions.entries):
            form.questions.pop_entry()
        for question in current.questions:
            form.questions.append_entry(
                {
                    "label": question.label,
                    "kind": question.kind.value,
                    "choices": "\n".join(question.choices),
                    "private": question.private,
                    "required": question.required,
                }
            )
        form.questions.append_entry()
    else:
        form = form_class()
        if form.add_question.data:
            form.questions.append_entry()
        elif form.validate_on_submit():
            modes = {name: FieldMode(form[f"mode_{name}"].data) for name in BUILT_IN_FIELDS}
            if form.confirm_email.data:
                modes["email"] = FieldMode.required
            save_sign_form_settings(
                appeal,
                SettingsData(
                    modes=modes,
                    regions=list(form.regions.data or []) or None,
                    relationships=[
                        line.strip() for line in form.relationships.data.split("\n") if line.strip()
                    ],
                    confirm_email=form.confirm_email.data,
                    consent_text=form.consent_text.data or "",
                    questions=[
                        QuestionData(
                            label=entry.form.label.data,
                            kind=entry.form.kind.data,
                            choices=[
                                c.strip()
                                for c in (entry.form.choices.data or "").split("\n")
                                if c.strip()
                            ],
                            private=entry.form.private.data,
                            required=entry.form.required.data,
                        )
                        for entry in form.questions.entries
                        if entry.form.label.data
                    ],
                ),
            )
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
