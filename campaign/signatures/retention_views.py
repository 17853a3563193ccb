"""The owner's page that erases signatories' private details of an appeal that has ended."""

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, SubmitField
from wtforms.validators import DataRequired

from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.extensions import db
from campaign.signatures.retention import (
    Erased,
    appeal_end,
    erase_private_data,
    erasure_due,
    private_details,
    retention_months,
)


class ErasePrivateDataForm(FlaskForm):
    """Confirm erasing the private details of an appeal's signatories."""

    confirm = BooleanField(
        _l("I understand that these details cannot be brought back."),
        validators=[DataRequired(message=_l("Tick the box to confirm that you understand."))],
    )
    submit = SubmitField(_l("Erase the private details now"))


@bp.app_template_global()
def private_data_retention(appeal: Appeal) -> dict[str, Any]:
    """What an appeal's overview says of its signatories' private details."""
    return {
        "months": retention_months(),
        "ended": appeal_end(appeal),
        "due": erasure_due(appeal),
        "kept": private_details(appeal.id).any if appeal.versions else False,
    }


@bp.route("/<int:appeal_id>/private-data", methods=["GET", "POST"])
@requires_role(Role.owner)
def private_data(appeal: Appeal) -> Response | tuple[str, int]:
    """Show what erasing the signatories' private details removes and keeps; erase them."""
    form = ErasePrivateDataForm()
    ended = appeal_end(appeal)
    status = 200
    if request.method == "POST":
        if ended is None:
            flash(
                _(
                    "Nothing was erased: the appeal still accepts signatures. Close it first: "
                    "new signatories would give their details after the erasure."
                ),
                "error",
            )
            status = 409
        elif form.validate_on_submit():
            erased = erase_private_data(appeal, reason="owner")
            db.session.commit()
            flash(_erased_message(erased), "success")
            return redirect(url_for("appeals.show", appeal_id=appeal.id))
        else:
            status = 400
    return render_template(
        "appeals/private_data.html",
        appeal=appeal,
        form=form,
        details=private_details(appeal.id),
        ended=ended,
        due=erasure_due(appeal),
        months=retention_months(),
    ), status


def _erased_message(erased: Erased) -> str:
    said = []
    if erased.signatures or not (erased.scans or erased.dossiers):
        said.append(
            ngettext(
                "The private details of %(num)d signatory were erased.",
                "The private details of %(num)d signatories were erased.",
                erased.signatures,
            )
        )
    if erased.scans:
        said.append(
            ngettext(
                "The scan of %(num)d signed sheet was deleted.",
                "The scans of %(num)d signed sheets were deleted.",
                erased.scans,
            )
        )
    if erased.dossiers:
        said.append(
            ngettext(
                "The file of %(num)d dossier never handed in was deleted.",
                "The files of %(num)d dossiers never handed in were deleted.",
                erased.dossiers,
            )
        )
    return " ".join(said)
