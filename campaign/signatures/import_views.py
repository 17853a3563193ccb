"""The desk's import of a table of paper signatures: upload it, map its columns and preview
its first rows' errors, then import it on the task queue and watch how it goes; or cancel it.

The preview checks only the rows kept at the upload (import_uploads.HEAD_ROWS): a check of
every row takes minutes at 100,000 rows, so the import's job checks them all again, and
stores all or none.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import csrf, db
from campaign.i18n import current_language
from campaign.job_rows import JobStatus
from campaign.signatures.fields import BUILT_IN_FIELDS
from campaign.signatures.import_checking import check_rows
from campaign.signatures.import_columns import (
    MAX_BYTES,
    ImportRefused,
    mapping_from_header,
    targets,
)
from campaign.signatures.import_job_model import ImportJob
from campaign.signatures.import_jobs import (
    ImportUnderWay,
    enqueue_import,
    failure_message,
    give_up_if_stalled,
    live_import,
    request_import,
)
from campaign.signatures.import_uploads import (
    HEAD_ROWS,
    TableHead,
    discard_upload,
    keep_upload,
    read_head,
)
from campaign.signatures.paper_forms import UploadForm
from campaign.signatures.paper_views import (
    form_expired,
    paper_desk,
    raise_upload_limit,
    refusal_message,
)
from campaign.signatures.spreadsheets import UnreadableTable

# Rows shown as they will be imported.
PREVIEW_ROWS = 20


@bp.post("/<int:appeal_id>/paper/import")
@requires_role(Role.editor)
def paper_upload(appeal: Appeal) -> BaseResponse:
    """Keep the uploaded table (0600, under instance/) and go to its columns and preview."""
    raise_upload_limit(MAX_BYTES + 64 * 1024)
    try:
        form = UploadForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        return paper_desk(appeal, refusal_message("size"), 400)
    upload = form.table.data
    if not valid or not upload or not getattr(upload, "filename", ""):
        message = None if form_expired(form) else _("Choose a CSV or XLSX file.")
        return paper_desk(appeal, message, 400)
    try:
        token = keep_upload(appeal.id, upload.stream)
    except (ImportRefused, UnreadableTable) as refused:
        return paper_desk(appeal, refusal_message(refused.code), 400)
    head = read_head(appeal.id, token)
    record_event(appeal.id, "signatures.import_uploaded", subject=("appeal", appeal.id),
                 format=head.file_format if head else None)  # fmt: skip
    db.session.commit()
    return redirect(url_for("appeals.paper_import", appeal_id=appeal.id, upload=token))


csrf.exempt(paper_upload)  # it raises the body's limit first, then checks the form's token


@bp.route("/<int:appeal_id>/paper/import/<upload>", methods=["GET", "POST"])
@requires_role(Role.editor)
def paper_import(appeal: Appeal, upload: str) -> BaseResponse | tuple[str, int] | str:
    """Map the table's columns and preview its first rows' errors; then queue its import."""
    under_way = live_import(appeal.id, upload)
    if under_way is not None:
        if request.method == "POST":
            flash(_("This table is being imported, or was imported, already."), "error")
        return redirect(
            url_for("appeals.paper_import_job", appeal_id=appeal.id, job_id=under_way.id)
        )
    head = read_head(appeal.id, upload)
    if head is None:
        abort(404)
    choices = targets(appeal)
    form = UploadForm()  # its CSRF token only
    importing = request.method == "POST" and "import" in request.form
    if request.method == "POST":
        if not form.validate_on_submit() and form_expired(form):
            return redirect(url_for("appeals.paper_import", appeal_id=appeal.id, upload=upload))
        mapping = {
            index: request.form.get(f"column-{index}", "") for index in range(len(head.header))
        }
        mapping = {i: name for i, name in mapping.items() if name in choices}
    else:
        mapping = mapping_from_header(appeal, head.header)
    doubled = sorted({n for n in mapping.values() if list(mapping.values()).count(n) > 1})
    report = error = None
    status = 200
    if doubled:
        error = _(
            "Each field can come from one column only: %(fields)s.", fields=", ".join(doubled)
        )
        status = 400
    else:
        try:
            report = check_rows(appeal, head.rows, mapping, preview_rows=PREVIEW_ROWS)
            if importing:
                if appeal.latest_version is None:
                    raise ImportRefused("unpublished")
                if not report.error_count and report.rows:
                    return _queue(appeal, upload, mapping, head)
                status = 400
        except (ImportRefused, UnreadableTable) as refused:
            db.session.rollback()
            error = refusal_message(refused.code, getattr(refused, "detail", ""))
            status = 400
    return render_template(
        "appeals/paper_import.html",
        appeal=appeal,
        form=form,
        upload=upload,
        header=head.header,
        complete=head.complete,
        checked_rows=HEAD_ROWS,
        mapping=mapping,
        choices=_labelled(choices),
        report=report,
        error=error,
        imported=importing,
    ), status


def _queue(appeal: Appeal, upload: str, mapping: dict[int, str], head: TableHead) -> BaseResponse:
    try:
        job = request_import(
            appeal, upload, mapping, head.file_format, current_user, language=current_language()
        )
    except ImportUnderWay as under_way:
        db.session.rollback()
        flash(_("This table is being imported, or was imported, already."), "error")
        job = under_way.job
    else:
        db.session.commit()
        enqueue_import(job)
    return redirect(url_for("appeals.paper_import_job", appeal_id=appeal.id, job_id=job.id))


@bp.get("/<int:appeal_id>/paper/imports/<int:job_id>")
@requires_role(Role.editor)
def paper_import_job(appeal: Appeal, job_id: int) -> str:
    """How an import goes; the page refreshes itself until it is done or failed."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.appeal_id != appeal.id:
        abort(404)
    if give_up_if_stalled(job):
        db.session.commit()
    working = job.status in (JobStatus.queued, JobStatus.running)
    return render_template(
        "appeals/paper_import_job.html",
        appeal=appeal,
        job=job,
        working=working,
        failure_message=failure_message,
        kept=not working and read_head(appeal.id, job.upload) is not None,
        form=UploadForm(formdata=None),
        choices=_labelled(targets(appeal)),
    )


@bp.post("/<int:appeal_id>/paper/import/<upload>/cancel")
@requires_role(Role.editor)
def paper_import_cancel(appeal: Appeal, upload: str) -> BaseResponse:
    """Delete a table waiting to be imported (not one being imported)."""
    under_way = live_import(appeal.id, upload)
    if under_way is not None:
        flash(_("This table is being imported, or was imported, already."), "error")
        return redirect(
            url_for("appeals.paper_import_job", appeal_id=appeal.id, job_id=under_way.id)
        )
    if not discard_upload(appeal.id, upload):
        abort(404)
    record_event(appeal.id, "signatures.import_cancelled", subject=("appeal", appeal.id))
    db.session.commit()
    flash(_("The table was deleted from the server; nothing was imported."), "success")
    return redirect(url_for("appeals.paper", appeal_id=appeal.id))


def _labelled(choices: dict[str, str]) -> dict[str, str]:
    """Name each field as the sign form does, with its export column's name."""
    words = {
        "surname": _("Surname"),
        "given_name": _("Given name"),
        **{name: str(label) for name, label in BUILT_IN_FIELDS.items()},
        "signed_on": _("Signed on"),
        "source": _("Source"),
        "sheet": _("Sheet number"),
        "line": _("Line on the sheet"),
    }
    return {
        name: f"{words[name]} ({column})" if name in words else column
        for name, column in choices.items()
    }
