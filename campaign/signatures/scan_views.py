"""The paper desk's scans of signed sheets: store one by its sheet number, view or download
it, delete it. Editors and owners only: a sheet shows its signers' private details."""

import logging

from flask import Response, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import csrf, db
from campaign.file_changes import commit_with, refused_message
from campaign.signatures.paper import (
    SCAN_MAX_BYTES,
    SCAN_MAX_PAGES,
    UnknownScan,
    delete_scan,
    store_scan,
    stored_scans,
)
from campaign.signatures.paper_forms import DeleteScanForm, ScanForm
from campaign.signatures.paper_views import form_expired, paper_desk, raise_upload_limit

log = logging.getLogger(__name__)

SCAN_UPLOAD_BYTES = SCAN_MAX_BYTES + 1024 * 1024
# How each kind is sent: pictures shown in the browser, a PDF downloaded.
_SENT_AS = {
    "jpg": ("image/jpeg", False),
    "png": ("image/png", False),
    "pdf": ("application/pdf", True),
}


def _refusal(code: str) -> str:
    size = format_decimal(SCAN_MAX_BYTES // (1024 * 1024))
    messages = {
        "size": _("The scan is larger than %(size)s MB.", size=size),
        "kind": _("A scan must be a PDF, JPEG or PNG file of at most %(size)s MB.", size=size),
        "damaged": _(
            "The PDF is damaged and cannot be read. Scan the sheet again or save it as JPEG or PNG."
        ),
        "encrypted": _(
            "The PDF is protected by a password or encrypted. Save it without protection and "
            "upload it again."
        ),
        "empty": _("The PDF has no page."),
        "pages": _(
            "The PDF has more than %(pages)s pages. Upload each sheet as a scan of its own.",
            pages=format_decimal(SCAN_MAX_PAGES),
        ),
    }
    return messages[code]


@bp.post("/<int:appeal_id>/paper/scans")
@requires_role(Role.editor)
def paper_scan(appeal: Appeal) -> BaseResponse:
    """Keep the scan of a signed sheet, privately, by its sheet number."""
    raise_upload_limit(SCAN_UPLOAD_BYTES)
    try:
        form = ScanForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        return paper_desk(appeal, _refusal("size"), 400)
    upload = form.scan.data
    if not valid or not upload or not getattr(upload, "filename", ""):
        if not form_expired(form):
            flash(_("Give the sheet's number and choose its scan."), "error")
        return paper_desk(appeal, None, 400, form)
    try:
        change = store_scan(appeal, form.sheet.data, upload.read(SCAN_UPLOAD_BYTES))
    except UnknownScan as refused:
        db.session.rollback()
        return paper_desk(appeal, _refusal(refused.code), 400, form)
    except OSError:
        db.session.rollback()
        log.exception("The scan of a sheet could not be written (appeal %s)", appeal.id)
        return paper_desk(appeal, refused_message(), 500, form)
    commit_with(change)
    flash(_("The scan of sheet %(sheet)d is stored.", sheet=form.sheet.data), "success")
    return redirect(url_for("appeals.paper", appeal_id=appeal.id))


# The upload raises the body's limit before reading it, then checks the form's own token.
csrf.exempt(paper_scan)


def _scan_of(appeal: Appeal, sheet: int) -> str:
    paths = stored_scans(appeal.id).get(sheet)
    if not paths:
        abort(404)
    return str(paths[0])


@bp.get("/<int:appeal_id>/paper/scans/<int:sheet>")
@requires_role(Role.editor)
def paper_scan_file(appeal: Appeal, sheet: int) -> Response:
    """Send a sheet's scan: a picture to look at, a PDF to download; never cached."""
    path = _scan_of(appeal, sheet)
    kind = path.rsplit(".", 1)[-1]
    mimetype, download = _SENT_AS[kind]
    record_event(appeal.id, "sheets.scan_downloaded", subject=("appeal", appeal.id), sheet=sheet)
    db.session.commit()
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=download,
        download_name=f"{appeal.slug}-sheet-{sheet}.{kind}",
        conditional=False,
        etag=False,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<int:appeal_id>/paper/scans/<int:sheet>/delete", methods=["GET", "POST"])
@requires_role(Role.editor)
def delete_paper_scan(appeal: Appeal, sheet: int) -> BaseResponse | str:
    """Ask, then delete a sheet's scan: it leaves the next submission edition."""
    _scan_of(appeal, sheet)
    form = DeleteScanForm()
    status = 200
    if form.validate_on_submit():
        try:
            change = delete_scan(appeal, sheet)
        except LookupError:
            abort(404)  # deleted meanwhile
        except OSError:
            db.session.rollback()
            log.exception("The scan of a sheet could not be deleted (appeal %s)", appeal.id)
            flash(refused_message(), "error")
            status = 500
        else:
            commit_with(change)
            flash(_("The scan of sheet %(sheet)d is deleted.", sheet=sheet), "success")
            return redirect(url_for("appeals.paper", appeal_id=appeal.id))
    else:
        form_expired(form)
    response = Response(
        render_template("appeals/paper_scan_delete.html", appeal=appeal, sheet=sheet, form=form),
        status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
