"""The desk's paper pages: enter a signature written in ink, import a table of them (upload,
map the columns, preview every row's errors, import all or none), and export the signatures.
The scans of signed sheets have their views in scan_views."""

import secrets
import shutil
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from campaign.accounts.models import Role
from campaign.appeals.access import current_membership, requires_role
from campaign.appeals.models import Appeal
from campaign.appeals.views import bp
from campaign.audit.operations import record_event
from campaign.extensions import csrf, db
from campaign.i18n import current_language
from campaign.private_files import private_file
from campaign.security_log import log_security_event
from campaign.signatures.exporting import (
    MIMETYPES,
    PRIVATE_COLUMNS,
    ExportFilter,
    available_columns,
    choose_columns,
    export_table,
)
from campaign.signatures.fields import BUILT_IN_FIELDS
from campaign.signatures.forms import validate_sign_form
from campaign.signatures.images import InvalidImage, clean_scan
from campaign.signatures.importing import (
    MAX_BYTES,
    ImportRefused,
    check_table,
    import_table,
    mapping_from_header,
    read_header,
    targets,
)
from campaign.signatures.models import SignatureSource, SignatureStatus
from campaign.signatures.operations import sign_form_settings
from campaign.signatures.paper import (
    SCAN_MAX_PAGES,
    NotPublished,
    PaperPlace,
    SignedAlready,
    enter_paper_signature,
    paper_folder,
    sheets_overview,
)
from campaign.signatures.paper_forms import (
    ScanForm,
    UploadForm,
    export_form_class,
    paper_form_class,
)
from campaign.signatures.regions import region_choices
from campaign.signatures.spreadsheets import UnreadableTable

PREVIEW_ROWS = 20
SCAN_UPLOAD_BYTES = 21 * 1024 * 1024


def _refusal(code: str, detail: str = "") -> str:
    messages = {
        "encoding": _(
            "The file is neither UTF-8 (with or without BOM) nor Windows-1251 text. Save it "
            "as “CSV UTF-8” or as an XLSX workbook and upload it again."
        ),
        "format": _("The file is not a CSV or XLSX table."),
        "empty": _("The file holds no table."),
        "columns": _("Choose a column for each of: %(columns)s.", columns=detail),
        "mapping": _("The mapping names what the table does not have: %(name)s.", name=detail),
        "unpublished": _("Publish the appeal first: there is nothing to sign yet."),
        "size": _(
            "The file is larger than %(size)s MB. Split it into smaller tables.",
            size=format_decimal(MAX_BYTES // (1024 * 1024)),
        ),
    }
    return messages[code]


def raise_upload_limit(limit: int) -> None:
    """Allow this request's body up to `limit` bytes."""
    # The site-wide limit (2 MB) is for forms; these views check their own CSRF token (the
    # forms are FlaskForms) once the limit is raised.
    request.max_content_length = limit


def form_expired(form: object) -> bool:
    """Say (flash) that a form's CSRF token had expired, if it had; log it."""
    token = getattr(form, "csrf_token", None)
    if token is not None and token.errors:
        log_security_event("csrf.failure", reason="paper_form")
        flash(_("The form had expired or came from elsewhere. Please try again."), "error")
        return True
    return False


@bp.get("/<int:appeal_id>/paper")
@requires_role(Role.editor)
def paper(appeal: Appeal) -> BaseResponse:
    """The paper desk: enter, import, scans of signed sheets and which sheets lack one."""
    return paper_desk(appeal, None, 200)


def paper_desk(
    appeal: Appeal, message: str | None, status: int, scan_form: ScanForm | None = None
) -> BaseResponse:
    """Render the paper desk, with an error message flashed if given (and the scan form as
    it was sent); never cached."""
    if message:
        flash(message, "error")
    response = make_response(
        render_template(
            "appeals/paper.html",
            appeal=appeal,
            upload_form=UploadForm(formdata=None),
            scan_form=scan_form or ScanForm(formdata=None),
            overview=sheets_overview(appeal.id),
            max_pages=SCAN_MAX_PAGES,
        ),
        status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:appeal_id>/paper/new", methods=["GET", "POST"])
@requires_role(Role.editor)
def paper_new(appeal: Appeal) -> BaseResponse | str:
    """Enter one signature written in ink, with every field of the sign form."""
    raise_upload_limit(current_app.config["MAX_CONTENT_LENGTH"] * 3)
    settings = sign_form_settings(appeal)
    language = current_language()
    form = paper_form_class(appeal, settings, language)()
    if request.method == "POST" and validate_sign_form(form):
        data = form.to_data()
        upload = form.scan.data
        refused = False
        if upload and getattr(upload, "filename", ""):
            try:
                data.image = clean_scan(upload.read(SCAN_UPLOAD_BYTES))
            except InvalidImage:
                log_security_event("upload.refused", kind="paper_signature", reason="image")
                form.scan.errors = [
                    _("The scan must be a JPEG or PNG picture of at most 5 MB that opens.")
                ]
                refused = True
        if not refused:
            place = PaperPlace(form.sheet.data, form.line.data, form.signed_on.data)
            try:
                enter_paper_signature(appeal, data, place)
            except SignedAlready:
                db.session.rollback()
                flash(_("She has signed already: the same name with that email or phone."), "error")
            except NotPublished:
                db.session.rollback()
                flash(_refusal("unpublished"), "error")
            else:
                db.session.commit()
                flash(_("The paper signature is entered and counted."), "success")
                return redirect(url_for("appeals.paper_new", appeal_id=appeal.id))
    elif request.method == "POST":
        form_expired(form)
    return render_template("appeals/paper_new.html", appeal=appeal, form=form)


def _uploads(appeal_id: int) -> Path:
    return paper_folder("imports", appeal_id)


def _upload_path(appeal_id: int, upload: str) -> Path:
    if not (len(upload) == 32 and all(c in "0123456789abcdef" for c in upload)):
        abort(404)
    path = _uploads(appeal_id) / f"{upload}.table"
    if not path.exists():
        abort(404)
    return path


@bp.post("/<int:appeal_id>/paper/import")
@requires_role(Role.editor)
def paper_upload(appeal: Appeal) -> BaseResponse:
    """Keep the uploaded table (0600, under instance/) and go to its columns and preview."""
    raise_upload_limit(MAX_BYTES + 64 * 1024)
    try:
        form = UploadForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        return _paper_refused(appeal, _refusal("size"))
    upload = form.table.data
    if not valid or not upload or not getattr(upload, "filename", ""):
        message = None if form_expired(form) else _("Choose a CSV or XLSX file.")
        return _paper_refused(appeal, message)
    token = secrets.token_hex(16)
    path = private_file(_uploads(appeal.id) / f"{token}.table")
    with path.open("wb") as out:
        shutil.copyfileobj(upload.stream, out, 1024 * 1024)
    if path.stat().st_size > MAX_BYTES:  # the body's limit allows for the rest of the form
        path.unlink(missing_ok=True)
        return _paper_refused(appeal, _refusal("size"))
    try:
        with path.open("rb") as stream:
            read_header(stream)
    except (ImportRefused, UnreadableTable) as refused:
        path.unlink(missing_ok=True)
        return _paper_refused(appeal, _refusal(refused.code))
    return redirect(url_for("appeals.paper_import", appeal_id=appeal.id, upload=token))


def _paper_refused(appeal: Appeal, message: str | None) -> BaseResponse:
    return paper_desk(appeal, message, 400)


@bp.route("/<int:appeal_id>/paper/import/<upload>", methods=["GET", "POST"])
@requires_role(Role.editor)
def paper_import(appeal: Appeal, upload: str) -> BaseResponse | tuple[str, int] | str:
    """Map the table's columns, preview every row's errors, then import all rows or none."""
    path = _upload_path(appeal.id, upload)
    choices = targets(appeal)
    form = UploadForm()  # its CSRF token only
    with path.open("rb") as stream:
        header = read_header(stream)
        if request.method == "POST":
            if not form.validate_on_submit() and form_expired(form):
                return redirect(url_for("appeals.paper_import", appeal_id=appeal.id, upload=upload))
            mapping = {
                index: request.form.get(f"column-{index}", "") for index in range(len(header))
            }
            mapping = {i: name for i, name in mapping.items() if name in choices}
        else:
            mapping = mapping_from_header(appeal, header)
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
                if request.method == "POST" and "import" in request.form:
                    report = import_table(appeal, stream, mapping, file_format=_format_of(stream))
                    if not report.error_count:
                        db.session.commit()
                        path.unlink(missing_ok=True)
                        flash(
                            _(
                                "%(count)s paper signatures imported.",
                                count=format_decimal(report.stored),
                            ),
                            "success",
                        )
                        return redirect(url_for("appeals.show", appeal_id=appeal.id))
                    db.session.rollback()
                    status = 400
                    # The preview's first rows, from a second read (the import read them all).
                    stream.seek(0)
                    report.preview = check_table(
                        appeal, stream, mapping, preview_rows=PREVIEW_ROWS
                    ).preview
                else:
                    report = check_table(appeal, stream, mapping, preview_rows=PREVIEW_ROWS)
            except (ImportRefused, UnreadableTable) as refused:
                db.session.rollback()
                error = _refusal(refused.code, getattr(refused, "detail", ""))
                status = 400
    return render_template(
        "appeals/paper_import.html",
        appeal=appeal,
        form=form,
        upload=upload,
        header=header,
        mapping=mapping,
        choices=_labelled(choices),
        report=report,
        error=error,
        imported=request.method == "POST" and "import" in request.form,
    ), status


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


def _format_of(stream: object) -> str:
    stream.seek(0)  # type: ignore[attr-defined]
    start = stream.read(4)  # type: ignore[attr-defined]
    stream.seek(0)  # type: ignore[attr-defined]
    return "xlsx" if start == b"PK\x03\x04" else "csv"


# The uploads above raise the body's limit before reading it, then check the form's own token.
for _view in (paper_new, paper_upload):
    csrf.exempt(_view)


@bp.route("/<int:appeal_id>/export", methods=["GET", "POST"])
@requires_role(Role.advocate)
def export(appeal: Appeal) -> BaseResponse | str:
    """Download the signatures (filtered as the list's query says), with the columns chosen;
    private columns only for owners and editors."""
    private = current_membership().role.includes(Role.editor)
    columns = available_columns(appeal, private=private)
    settings = sign_form_settings(appeal)
    regions = region_choices(appeal.country, current_language(), settings.regions)
    form_class = export_form_class(columns.names, regions, settings.relationships)
    if request.method == "GET":
        form = form_class(
            formdata=None, data={k: v for k, v in request.args.items() if k in _FILTERS}
        )
        return render_template("appeals/export.html", appeal=appeal, form=form, private=private)
    asked = request.form.getlist("chosen")
    if not private and set(asked) & set(PRIVATE_COLUMNS):
        abort(403)
    form = form_class()
    if not form.validate_on_submit():
        form_expired(form)
        return render_template(
            "appeals/export.html", appeal=appeal, form=form, private=private
        ), 400
    where = ExportFilter(
        status=SignatureStatus(form.status.data) if form.status.data else None,
        region=form.region.data,
        relationship=form.relationship.data,
        source=SignatureSource(form.source.data) if form.source.data else None,
    )
    chosen = choose_columns(columns, form.chosen.data)
    data, count = export_table(appeal, chosen, form.format.data, where, bom=form.bom.data)
    record_event(
        appeal.id,
        "signatures.exported",
        subject=("appeal", appeal.id),
        rows=count,
        format=form.format.data,
        private=bool(set(chosen.names) & set(PRIVATE_COLUMNS))
        or any(q.private for q in chosen.questions),
    )
    db.session.commit()
    response = Response(data, mimetype=MIMETYPES[form.format.data])
    name = f"signatures-{appeal.slug}.{form.format.data}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


_FILTERS = ("status", "region", "relationship", "source")
