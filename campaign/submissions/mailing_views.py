"""Desk pages that tell the signers: the notice before a submission, the update after an
answer, and how a mailing goes."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.extensions import db
from campaign.markup import render_markdown
from campaign.submissions.desk_views import submission_or_404
from campaign.submissions.forms import (
    NoticeForm,
    RecordSentForm,
    ResumeMailingForm,
    RetryMailingForm,
    UpdateForm,
)
from campaign.submissions.hand_in import record_as_sent
from campaign.submissions.mailings import (
    enqueue_mailing,
    is_sending,
    is_stalled,
    new_request_key,
    retry_failed,
    sent_so_far,
    start_mailing,
)
from campaign.submissions.models import Mailing, MailingKind, Submission
from campaign.submissions.operations import SubmissionRefused


def _to_detail(appeal: Appeal, submission: Submission) -> Response:
    return redirect(url_for("appeals.submission", appeal_id=appeal.id, submission_id=submission.id))


@bp.post("/<int:appeal_id>/submissions/<int:submission_id>/notice")
@requires_role(Role.advocate)
def send_notice(appeal: Appeal, submission_id: int) -> Response:
    """Tell every signer who left an email where her name is going, and when."""
    found = submission_or_404(appeal, submission_id)
    form = NoticeForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
        return _to_detail(appeal, found)
    try:
        mailing, new = start_mailing(found, MailingKind.notice, form.request_key.data, current_user)
    except SubmissionRefused as refusal:
        db.session.rollback()
        flash(str(refusal.message), "error")
        return _to_detail(appeal, found)
    if new:
        enqueue_mailing(mailing)
    return redirect(url_for("appeals.mailing", appeal_id=appeal.id, mailing_id=mailing.id))


@bp.post("/<int:appeal_id>/submissions/<int:submission_id>/sent")
@requires_role(Role.advocate)
def record_sent(appeal: Appeal, submission_id: int) -> Response:
    """Date the hand-in today, once the notice period is over."""
    found = submission_or_404(appeal, submission_id)
    if RecordSentForm().validate_on_submit():
        try:
            record_as_sent(found)
        except SubmissionRefused as refusal:
            db.session.rollback()
            flash(str(refusal.message), "error")
            return _to_detail(appeal, found)
        db.session.commit()
        flash(_("The submission is recorded as sent today."), "success")
    return _to_detail(appeal, found)


@bp.route("/<int:appeal_id>/submissions/<int:submission_id>/update", methods=["GET", "POST"])
@requires_role(Role.advocate)
def send_update(appeal: Appeal, submission_id: int) -> Response | tuple[str, int] | str:
    """Write the update on the answer, preview it, and send it."""
    found = submission_or_404(appeal, submission_id)
    form = UpdateForm()
    if request.method == "GET":
        form.request_key.data = new_request_key()
        if found.answer is not None and found.answer.public:
            form.body.data = found.answer.summary or ""
        return _update_page(appeal, found, form)
    if not form.validate_on_submit():
        return _update_page(appeal, found, form, status=400)
    if form.preview.data:
        return _update_page(appeal, found, form, preview=render_markdown(form.body.data))
    try:
        mailing, new = start_mailing(
            found,
            MailingKind.update,
            form.request_key.data,
            current_user,
            subject=form.subject.data,
            body=form.body.data,
        )
    except SubmissionRefused as refusal:
        db.session.rollback()
        form.subject.errors = [*form.subject.errors, refusal.message]
        return _update_page(appeal, found, form, status=400)
    if new:
        enqueue_mailing(mailing)
    return redirect(url_for("appeals.mailing", appeal_id=appeal.id, mailing_id=mailing.id))


def _update_page(
    appeal: Appeal,
    submission: Submission,
    form: UpdateForm,
    *,
    status: int = 200,
    preview: Markup | None = None,
) -> tuple[str, int]:
    return render_template(
        "submissions/update.html", appeal=appeal, submission=submission, form=form, preview=preview
    ), status


def _mailing_or_404(appeal: Appeal, mailing_id: int) -> tuple[Mailing, Submission]:
    found = db.session.get(Mailing, mailing_id)
    if found is None:
        abort(404)
    submission = db.session.get(Submission, found.submission_id)
    if submission is None or submission.appeal_id != appeal.id:
        abort(404)
    return found, submission


@bp.get("/<int:appeal_id>/mailings/<int:mailing_id>")
@requires_role(Role.advocate)
def mailing(appeal: Appeal, mailing_id: int) -> str:
    """How a mailing goes: sent, failed, left out; the page refreshes itself meanwhile, and
    offers to send the rest if its worker stopped."""
    found, submission = _mailing_or_404(appeal, mailing_id)
    stalled = is_stalled(found)
    return render_template(
        "submissions/mailing.html",
        appeal=appeal,
        submission=submission,
        mailing=found,
        sent=sent_so_far(found),
        working=is_sending(found) and not stalled,
        stalled=stalled,
        resume_form=ResumeMailingForm(formdata=None),
        retry_form=RetryMailingForm(formdata=None),
    )


@bp.post("/<int:appeal_id>/mailings/<int:mailing_id>/resume")
@requires_role(Role.advocate)
def resume_mailing(appeal: Appeal, mailing_id: int) -> Response:
    """Queue again a mailing that has sent nothing for a while: it sends what it has not."""
    found, _submission = _mailing_or_404(appeal, mailing_id)
    if not ResumeMailingForm().validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
    elif not is_sending(found):
        flash(_("This mailing has ended: there is nothing left to send."), "error")
    elif not is_stalled(found):
        flash(_("This mailing is still being sent."), "error")
    else:
        # Safe even if its first run still goes on: each message is claimed before it is sent.
        enqueue_mailing(found)
        flash(_("The messages not sent yet are queued again."), "success")
    return redirect(url_for("appeals.mailing", appeal_id=appeal.id, mailing_id=found.id))


@bp.post("/<int:appeal_id>/mailings/<int:mailing_id>/retry")
@requires_role(Role.advocate)
def retry_mailing(appeal: Appeal, mailing_id: int) -> Response:
    """Send again the messages of an ended mailing that failed every try (the mail server
    mended meanwhile)."""
    found, submission = _mailing_or_404(appeal, mailing_id)
    if not RetryMailingForm().validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
        return redirect(url_for("appeals.mailing", appeal_id=appeal.id, mailing_id=found.id))
    try:
        retried = retry_failed(found, submission)
    except SubmissionRefused as refusal:
        flash(str(refusal.message), "error")
    else:
        if retried:
            enqueue_mailing(found)
            flash(_("The messages that failed are queued again."), "success")
        else:
            flash(_("This mailing has no failed messages to send again."), "error")
    return redirect(url_for("appeals.mailing", appeal_id=appeal.id, mailing_id=found.id))
