"""The desk's paper pages: enter a signature written in ink, and export the signatures. The
import of a table has its views in import_views, the scans of signed sheets in scan_views."""

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
from werkzeug.wrappers import Response as BaseResponse

from campaign.accounts.models import Role
from campaign.appeals.access import current_membership, requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import csrf, db
from campaign.i18n import current_language
from campaign.security_log import log_security_event
from campaign.signatures.exporting import (
    MIMETYPES,
    PRIVATE_COLUMNS,
    ExportFilter,
    available_columns,
    choose_columns,
    export_table,
)
from campaign.signatures.forms import validate_sign_form
from campaign.signatures.images import InvalidImage, clean_scan
from campaign.signatures.import_columns import MAX_BYTES
from campaign.signatures.import_jobs import recent_imports
from campaign.signatures.models import SignatureSource, SignatureStatus
from campaign.signatures.paper import (
    SCAN_MAX_PAGES,
    NotPublished,
    PaperPlace,
    SignedAlready,
    enter_paper_signature,
    sheets_overview,
)
from campaign.signatures.paper_forms import (
    ScanForm,
    UploadForm,
    export_form_class,
    paper_form_class,
)
from campaign.signatures.regions import region_choices
from campaign.signatures.settings import sign_form_settings

SCAN_UPLOAD_BYTES = 21 * 1024 * 1024


def refusal_message(code: str, detail: str = "") -> str:
    """Say why a table cannot be imported at all (ImportRefused's or UnreadableTable's code)."""
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
    imports = recent_imports(appeal)
    db.session.commit()  # a stalled import marked failed
    response = make_response(
        render_template(
            "appeals/paper.html",
            appeal=appeal,
            upload_form=UploadForm(formdata=None),
            scan_form=scan_form or ScanForm(formdata=None),
            overview=sheets_overview(appeal.id),
            max_pages=SCAN_MAX_PAGES,
            imports=imports,
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
                flash(refusal_message("unpublished"), "error")
            else:
                db.session.commit()
                flash(_("The paper signature is entered and counted."), "success")
                return redirect(url_for("appeals.paper_new", appeal_id=appeal.id))
    elif request.method == "POST":
        form_expired(form)
    return render_template("appeals/paper_new.html", appeal=appeal, form=form)


# It raises the body's limit before reading it, then checks the form's own token.
csrf.exempt(paper_new)


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
