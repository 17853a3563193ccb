"""The submissions desk: record hand-ins, registrations, answers and scans; see the clock."""

import logging
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from campaign.accounts.models import Role
from campaign.appeals.access import current_membership, requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.dossiers.operations import appeal_snapshots
from campaign.extensions import csrf, db
from campaign.file_changes import commit_with, refused_message
from campaign.submissions.clock import DUE_LABELS, SOON_DAYS, channel_warning
from campaign.submissions.forms import (
    OTHER_ADDRESSEE,
    AnswerForm,
    DeleteSubmissionForm,
    ListingForm,
    NoticeForm,
    RecordSentForm,
    ScanForm,
    SubmissionForm,
)
from campaign.submissions.hand_in import (
    may_record_as_sent,
    notice_open_on,
    withdrawn_since_snapshot,
)
from campaign.submissions.mailings import new_request_key, sent_so_far
from campaign.submissions.models import AnswerKind, Channel, Mailing, Scan, ScanKind, Submission
from campaign.submissions.operations import (
    AnswerData,
    SubmissionData,
    SubmissionRefused,
    add_scan,
    appeal_submissions,
    delete_submission,
    due_submissions,
    record_answer,
    record_submission,
    submission_clock,
    submission_status,
    unfinished_notice,
    update_submission,
)
from campaign.submissions.presenting import snapshot_label
from campaign.submissions.scans import ScanRefused, scan_limit, scan_path
from campaign.time_zones import today_in

log = logging.getLogger(__name__)

SCAN_MESSAGES = {
    "too_large": lambda: _(
        "The file is larger than %(size)s MB.", size=format_decimal(round(scan_limit() / 2**20, 1))
    ),
    "empty": lambda: _("The file is empty."),
    "unknown_type": lambda: _("Only PDF, JPEG and PNG files are accepted."),
    "name_mismatch": lambda: _("The file is not what its name says: check its type."),
    "broken": lambda: _("The file cannot be opened: it may be damaged."),
}


def addressee_choices(appeal: Appeal) -> list[tuple[str, str]]:
    """The letter's addressees (as published, or as drafted), then "another"."""
    version = appeal.latest_version
    people = (
        [(item.get("name", ""), item.get("office", "")) for item in version.addressees]
        if version
        else [(item.name, item.office) for item in appeal.addressees]
    )
    named = [", ".join(part for part in person if part) for person in people]
    return [(name, name) for name in named if name] + [(OTHER_ADDRESSEE, _("Another addressee"))]


def _submission_form(
    appeal: Appeal, submission: Submission | None = None, *, bound: bool = True
) -> SubmissionForm:
    """The details form; unbound when the request's form is another one (an answer, a scan)."""
    unbound = {} if bound else {"formdata": None}
    form = SubmissionForm(obj=submission, **unbound) if submission else SubmissionForm(**unbound)
    form.snapshot_id.choices = [("", _("Choose a dossier"))] + [
        (snapshot.id, snapshot_label(snapshot)) for snapshot in appeal_snapshots(appeal)
    ]
    form.addressee_choice.choices = addressee_choices(appeal)
    if submission is not None and (not bound or request.method == "GET"):
        form.channel.data = submission.channel.value
        known = {value for value, _label in form.addressee_choice.choices}
        if submission.addressee in known:
            form.addressee_choice.data = submission.addressee
        else:
            form.addressee_choice.data = OTHER_ADDRESSEE
            form.addressee_other.data = submission.addressee
    return form


def _data(form: SubmissionForm) -> SubmissionData:
    other = form.addressee_choice.data == OTHER_ADDRESSEE
    return SubmissionData(
        snapshot_id=form.snapshot_id.data or None,
        addressee=form.addressee_other.data if other else form.addressee_choice.data,
        channel=Channel(form.channel.data),
        channel_detail=form.channel_detail.data or "",
        sent_on=form.sent_on.data,
        received_on=form.received_on.data,
        registration_number=form.registration_number.data or "",
        registered_on=form.registered_on.data,
        registration_public=form.registration_public.data,
        extension_days=form.extension_days.data or 0,
        notice_days=form.notice_days.data or 0,
    )


def _refused(form: Any, refusal: SubmissionRefused) -> None:
    db.session.rollback()
    getattr(form, refusal.field).errors = [*getattr(form, refusal.field).errors, refusal.message]


def _list_page(appeal: Appeal, form: SubmissionForm, status: int = 200) -> tuple[str, int]:
    today = today_in(appeal.time_zone)
    submissions = appeal_submissions(appeal)
    return render_template(
        "submissions/index.html",
        appeal=appeal,
        form=form,
        rows=[(s, submission_clock(s), submission_status(s, today)) for s in submissions],
        today=today,
        due_labels=DUE_LABELS,
        soon_days=SOON_DAYS,
        email_warning=channel_warning(appeal.country, Channel.email.value, today),
        listing_form=ListingForm(formdata=None, listed=appeal.listed),
        is_owner=current_membership().role is Role.owner,
    ), status


@bp.get("/<int:appeal_id>/submissions")
@requires_role(Role.advocate)
def submissions(appeal: Appeal) -> tuple[str, int]:
    """Every submission of the appeal with its clock, and the form for a new one."""
    return _list_page(appeal, _submission_form(appeal))


@bp.post("/<int:appeal_id>/submissions")
@requires_role(Role.advocate)
def record_new_submission(appeal: Appeal) -> Response | tuple[str, int]:
    """Record a hand-in."""
    form = _submission_form(appeal)
    if not form.validate_on_submit():
        return _list_page(appeal, form, 400)
    try:
        submission = record_submission(appeal, _data(form), current_user)
    except SubmissionRefused as refusal:
        _refused(form, refusal)
        return _list_page(appeal, form, 400)
    db.session.commit()
    flash(_("The submission is recorded."), "success")
    return redirect(url_for("appeals.submission", appeal_id=appeal.id, submission_id=submission.id))


def submission_or_404(appeal: Appeal, submission_id: int) -> Submission:
    """The appeal's submission, or 404 (another appeal's too)."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.appeal_id != appeal.id:
        abort(404)
    return submission


def _detail_page(
    appeal: Appeal,
    submission: Submission,
    *,
    form: SubmissionForm | None = None,
    answer_form: AnswerForm | None = None,
    scan_form: ScanForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    today = today_in(appeal.time_zone)
    if answer_form is None:
        answer = submission.answer
        answer_form = AnswerForm(formdata=None, obj=answer)
        if answer is not None:
            answer_form.kind.data = answer.kind.value
            answer_form.forwarded_to.data = submission.hops[0].addressee if submission.hops else ""
    mailings = db.session.scalars(
        select(Mailing).where(Mailing.submission_id == submission.id).order_by(Mailing.id)
    ).all()
    return render_template(
        "submissions/show.html",
        appeal=appeal,
        submission=submission,
        clock=submission_clock(submission),
        status=submission_status(submission, today),
        today=today,
        due_labels=DUE_LABELS,
        form=form or _submission_form(appeal, submission, bound=False),
        answer_form=answer_form,
        scan_form=scan_form or ScanForm(formdata=None),
        warning=channel_warning(appeal.country, submission.channel.value, today),
        is_owner=current_membership().role is Role.owner,
        notice_form=NoticeForm(formdata=None, request_key=new_request_key()),
        sent_form=RecordSentForm(formdata=None),
        may_send=may_record_as_sent(submission),
        opens_at=notice_open_on(submission),
        notice_sending=unfinished_notice(submission),
        withdrawn_since=withdrawn_since_snapshot(submission) if submission.sent_on is None else 0,
        mailings=mailings,
        sent_counts={mailing.id: sent_so_far(mailing) for mailing in mailings},
    ), status


@bp.get("/<int:appeal_id>/submissions/<int:submission_id>")
@requires_role(Role.advocate)
def submission(appeal: Appeal, submission_id: int) -> tuple[str, int]:
    """One submission: its clock, registration, answer, scans and forwarded hops."""
    return _detail_page(appeal, submission_or_404(appeal, submission_id))


@bp.post("/<int:appeal_id>/submissions/<int:submission_id>")
@requires_role(Role.advocate)
def change_submission(appeal: Appeal, submission_id: int) -> Response | tuple[str, int]:
    """Save the registration and other details entered later."""
    found = submission_or_404(appeal, submission_id)
    form = _submission_form(appeal, found)
    if not form.validate_on_submit():
        return _detail_page(appeal, found, form=form, status=400)
    try:
        update_submission(found, _data(form))
    except SubmissionRefused as refusal:
        _refused(form, refusal)
        return _detail_page(
            appeal, db.session.get(Submission, submission_id), form=form, status=400
        )
    db.session.commit()
    flash(_("The submission is saved."), "success")
    return redirect(url_for("appeals.submission", appeal_id=appeal.id, submission_id=found.id))


@bp.post("/<int:appeal_id>/submissions/<int:submission_id>/answer")
@requires_role(Role.advocate)
def answer_submission(appeal: Appeal, submission_id: int) -> Response | tuple[str, int]:
    """Record (or correct) the authority's answer."""
    found = submission_or_404(appeal, submission_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _detail_page(appeal, found, answer_form=form, status=400)
    data = AnswerData(
        kind=AnswerKind(form.kind.data),
        answered_on=form.answered_on.data,
        outgoing_number=form.outgoing_number.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        public=form.public.data,
        forwarded_to=form.forwarded_to.data or "",
    )
    try:
        record_answer(found, data, current_user)
    except SubmissionRefused as refusal:
        _refused(form, refusal)
        found = db.session.get(Submission, submission_id)
        return _detail_page(appeal, found, answer_form=form, status=400)
    db.session.commit()
    flash(_("The answer is recorded."), "success")
    return redirect(url_for("appeals.submission", appeal_id=appeal.id, submission_id=found.id))


# The scan's upload may be larger than the site's limit: the form checks its own CSRF token
# once the limit is raised (the site-wide check would read the body under the small one).
@bp.post("/<int:appeal_id>/submissions/<int:submission_id>/scans")
@requires_role(Role.advocate)
def upload_scan(appeal: Appeal, submission_id: int) -> Response | tuple[str, int]:
    """Add a scanned receipt or answer."""
    found = submission_or_404(appeal, submission_id)
    # Room for the form's other fields around the file.
    request.max_content_length = scan_limit() + 64 * 1024
    try:
        form = ScanForm()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        form = ScanForm(formdata=None)
        form.file.errors = [SCAN_MESSAGES["too_large"]()]
        return _detail_page(appeal, found, scan_form=form, status=413)
    if not valid:
        return _detail_page(appeal, found, scan_form=form, status=400)
    upload = form.file.data
    try:
        change = add_scan(
            found, ScanKind(form.kind.data), upload.filename or "", upload.read(), current_user
        )
    except ScanRefused as refusal:
        db.session.rollback()
        form.file.errors = [SCAN_MESSAGES[refusal.code]()]
        found = db.session.get(Submission, submission_id)
        return _detail_page(appeal, found, scan_form=form, status=400)
    except OSError:
        db.session.rollback()
        log.exception("A submission's scan could not be written (appeal %s)", appeal.id)
        form.file.errors = [refused_message()]
        found = db.session.get(Submission, submission_id)
        return _detail_page(appeal, found, scan_form=form, status=500)
    commit_with(change)
    flash(_("The scan is added."), "success")
    return redirect(url_for("appeals.submission", appeal_id=appeal.id, submission_id=found.id))


csrf.exempt("campaign.submissions.desk_views.upload_scan")


@bp.get("/<int:appeal_id>/submissions/<int:submission_id>/scans/<int:scan_id>")
@requires_role(Role.advocate)
def scan_file(appeal: Appeal, submission_id: int, scan_id: int) -> Response:
    """Download a scan; members only, never cached."""
    found = submission_or_404(appeal, submission_id)
    scan = db.session.get(Scan, scan_id)
    if scan is None or scan.submission_id != found.id or not scan_path(scan.filename).is_file():
        abort(404)
    record_event(appeal.id, "submission.scan_downloaded", subject=("scan", scan.id))
    db.session.commit()
    suffix = scan.filename.rsplit(".", 1)[-1]
    response = send_file(
        scan_path(scan.filename),
        mimetype=scan.media_type,
        as_attachment=True,
        download_name=f"{appeal.slug}-{found.id}-{scan.kind.value}-{scan.id}.{suffix}",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:appeal_id>/submissions/<int:submission_id>/delete", methods=["GET", "POST"])
@requires_role(Role.owner)
def delete_submission_page(appeal: Appeal, submission_id: int) -> Response | str | tuple[str, int]:
    """Ask, then delete a submission with its answer, scans and forwarded hops."""
    found = submission_or_404(appeal, submission_id)
    form = DeleteSubmissionForm()
    if form.validate_on_submit():
        try:
            change = delete_submission(found)
        except OSError:
            db.session.rollback()
            log.exception("A submission's scans could not be deleted (appeal %s)", appeal.id)
            flash(refused_message(), "error")
            found = submission_or_404(appeal, submission_id)
            page = render_template(
                "submissions/delete.html", appeal=appeal, submission=found, form=form
            )
            return page, 500
        commit_with(change)
        flash(_("The submission is deleted."), "success")
        return redirect(url_for("appeals.submissions", appeal_id=appeal.id))
    return render_template("submissions/delete.html", appeal=appeal, submission=found, form=form)


@bp.post("/<int:appeal_id>/listing")
@requires_role(Role.owner)
def listing(appeal: Appeal) -> Response:
    """List the appeal on the home page, or stop."""
    form = ListingForm()
    if form.validate_on_submit() and appeal.listed != form.listed.data:
        appeal.listed = form.listed.data
        record_event(appeal.id, "appeal.listed" if appeal.listed else "appeal.unlisted")
        db.session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for("appeals.submissions", appeal_id=appeal.id))


@bp.get("/due")
@login_required
def due() -> str:
    """Every overdue or soon-due submission across the user's appeals."""
    return render_template(
        "submissions/due.html",
        items=due_submissions(current_user),
        due_labels=DUE_LABELS,
        soon_days=SOON_DAYS,
    )
