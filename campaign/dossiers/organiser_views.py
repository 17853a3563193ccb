"""Organiser pages for dossiers: ask for one, watch it render, list and download snapshots."""

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from campaign.accounts.models import Role
from campaign.appeals.access import current_membership, requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.dossiers.forms import DossierRequestForm
from campaign.dossiers.models import DossierJob, DossierSnapshot, Edition, JobStatus
from campaign.dossiers.operations import (
    appeal_snapshots,
    enqueue_job,
    failure_message,
    give_up_if_stalled,
    jobs_to_show,
    request_dossier,
    snapshot_path,
)
from campaign.dossiers.sheets import MAX_BLANK_SHEETS, blank_sheets_pdf
from campaign.dossiers.signing import signing_configured
from campaign.extensions import db
from campaign.signatures.signer_links import withdrawn_since_each
from campaign.time_zones import local_date


def _request_form() -> DossierRequestForm:
    form = DossierRequestForm()
    if not signing_configured(current_app.config):
        del form.sign
    return form


def _page(appeal: Appeal, form: DossierRequestForm) -> str:
    jobs = jobs_to_show(appeal)
    db.session.commit()  # a stalled job marked failed
    snapshots = appeal_snapshots(appeal)
    return render_template(
        "appeals/dossiers.html",
        appeal=appeal,
        form=form,
        jobs=jobs,
        failure_message=failure_message,
        snapshots=snapshots,
        withdrawn=withdrawn_since_each(appeal.id, [s.created_at for s in snapshots]),
        may_render=current_membership().role.includes(Role.editor),
    )


@bp.get("/<int:appeal_id>/dossiers")
@requires_role(Role.advocate)
def dossiers(appeal: Appeal) -> str:
    """The appeal's dossier snapshots, and the form that makes a new one."""
    return _page(appeal, _request_form())


@bp.post("/<int:appeal_id>/dossiers")
@requires_role(Role.editor)
def request_new_dossier(appeal: Appeal) -> Response | tuple[str, int]:
    """Queue a render and show its progress."""
    form = _request_form()
    if appeal.latest_version is None:
        flash(_("Publish the appeal before making a dossier."), "error")
        return _page(appeal, form), 400
    if not form.validate_on_submit():
        return _page(appeal, form), 400
    job = request_dossier(
        appeal,
        Edition(form.edition.data),
        current_user,
        landscape=form.landscape.data,
        sign=bool(form.sign.data) if "sign" in form else False,
    )
    db.session.commit()
    enqueue_job(job)
    return redirect(url_for("appeals.dossier_job", appeal_id=appeal.id, job_id=job.id))


@bp.get("/<int:appeal_id>/dossiers/jobs/<int:job_id>")
@requires_role(Role.advocate)
def dossier_job(appeal: Appeal, job_id: int) -> str:
    """How far a render has gone; the page refreshes itself until it is done."""
    job = db.session.get(DossierJob, job_id)
    if job is None or job.appeal_id != appeal.id:
        abort(404)
    if give_up_if_stalled(job):
        db.session.commit()
    working = job.status in (JobStatus.queued, JobStatus.running)
    return render_template(
        "appeals/dossier_job.html",
        appeal=appeal,
        job=job,
        working=working,
        failure_message=failure_message,
    )


@bp.get("/<int:appeal_id>/dossiers/<snapshot_id>.pdf")
@requires_role(Role.advocate)
def dossier_file(appeal: Appeal, snapshot_id: str) -> Response:
    """Download a snapshot's PDF, as it was made."""
    snapshot = db.session.get(DossierSnapshot, snapshot_id)
    if snapshot is None or snapshot.appeal_id != appeal.id:
        abort(404)
    if snapshot.file_erased_at is not None:
        flash(
            _(
                "This dossier's file was deleted: it held signatories' details that were "
                "erased. Its fingerprints remain: a copy of it can still be checked."
            ),
            "error",
        )
        return redirect(url_for("appeals.dossiers", appeal_id=appeal.id))
    path = snapshot_path(snapshot)
    if not path.is_file():
        abort(404)
    # The snapshot's id is text, not a row number: it goes in the details (a hex code).
    record_event(appeal.id, "dossier.downloaded", subject=("appeal", appeal.id),
                 dossier=snapshot.id, edition=snapshot.edition.value)  # fmt: skip
    db.session.commit()
    made = local_date(snapshot.created_at, appeal.time_zone).isoformat()  # as on its cover
    name = f"{appeal.slug}-{snapshot.edition.value}-{made}-{snapshot.id[:8]}.pdf"
    response = send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:appeal_id>/sheets/blank")
@requires_role(Role.editor)
def blank_sheets(appeal: Appeal) -> Response:
    """Download numbered blank collection sheets (no one's details on them)."""
    if appeal.latest_version is None:
        abort(404)
    count = request.args.get("count", 5, type=int) or 5
    first = request.args.get("first", 1, type=int) or 1
    count = min(max(count, 1), MAX_BLANK_SHEETS)
    first = min(max(first, 1), 999_999)
    pdf = blank_sheets_pdf(appeal, count, first)
    record_event(appeal.id, "sheets.blank_downloaded", subject=("appeal", appeal.id),
                 sheets=count, first=first)  # fmt: skip
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="sheets-{appeal.slug}-{first}-{first + count - 1}.pdf"'
    )
    return response
