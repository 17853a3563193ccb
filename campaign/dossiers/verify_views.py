"""The public verification page: does this copy match a dossier this site made?"""

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from campaign.dossiers.forms import VerifyFileForm, VerifyForm
from campaign.dossiers.models import DossierSnapshot, Edition
from campaign.dossiers.operations import (
    find_snapshot_by_file_hash,
    find_snapshots,
    sha256_of_stream,
    snapshot_title,
)
from campaign.dossiers.page_jobs import edition_name
from campaign.extensions import csrf, db, limiter
from campaign.security_log import log_security_event

bp = Blueprint("verify", __name__, url_prefix="/verify")
# The site-wide CSRF check runs before this blueprint's hooks and reads the body under the
# site's small upload limit: the forms here check their own token, after the limit is raised.
csrf.exempt(bp)


@bp.before_request
def _allow_large_uploads() -> None:
    # A dossier of thousands of signatories is far larger than any other form's upload.
    request.max_content_length = current_app.config["VERIFY_MAX_BYTES"]


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    # The body was not read, so there is nothing of it to keep in the form.
    megabytes = current_app.config["VERIFY_MAX_BYTES"] / (1024 * 1024)
    message = _(
        "The file is larger than %(size)s MB: no dossier made here is.",
        size=format_decimal(round(megabytes, 1)),
    )
    return render_template(
        "verify/index.html", form=VerifyForm(formdata=None), too_large=message
    ), 413


def _expired(form: FlaskForm) -> str | None:
    if "csrf_token" in form and form.csrf_token.errors:
        log_security_event("csrf.failure", reason="verify_form")
        return _("The form had expired or came from elsewhere. Please try again.")
    return None


def _uploaded_hash(upload: FileStorage) -> str:
    return sha256_of_stream(upload.stream)


@bp.route("/", methods=["GET", "POST"])
@limiter.limit("60 per hour", methods=["POST"])
def index() -> tuple[str, int] | str:
    """Check a copy (or a fingerprint) against every snapshot."""
    form = VerifyForm()
    if request.method == "GET":
        return render_template("verify/index.html", form=form)
    if not form.validate_on_submit():
        return render_template("verify/index.html", form=form, expired=_expired(form)), 400
    if form.pdf.data:
        file_hash = _uploaded_hash(form.pdf.data)
        match = find_snapshot_by_file_hash(file_hash)
        matches = [match] if match else []
        checked = file_hash
    else:
        matches = find_snapshots(form.fingerprint.data)
        checked = form.fingerprint.data
    return render_template("verify/index.html", form=form, matches=matches, checked=checked)


@bp.route("/<snapshot_id>", methods=["GET", "POST"])
@limiter.limit("60 per hour", methods=["POST"])
def snapshot(snapshot_id: str) -> tuple[str, int] | str:
    """What one snapshot is, and whether an uploaded copy is that very file."""
    found = db.session.get(DossierSnapshot, snapshot_id)
    if found is None:
        abort(404)
    form = VerifyFileForm()
    result = None
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template(
                "verify/snapshot.html", snapshot=found, form=form, expired=_expired(form)
            ), 400
        result = _uploaded_hash(form.pdf.data) == found.file_sha256
    return render_template("verify/snapshot.html", snapshot=found, form=form, result=result)


bp.add_app_template_global(snapshot_title)


@bp.app_template_global()
def edition_label(edition: Edition) -> str:
    """Name an edition on a page."""
    return edition_name(edition)
