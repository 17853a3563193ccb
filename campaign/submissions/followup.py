"""The follow-up letter (a reminder, or a complaint about a missing answer) as a PDF, drafted
from a template the organiser edits and rendered by campaign.pdf like the dossier's pages."""

from datetime import date

from flask import abort, make_response, render_template, request
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from campaign import ROOT
from campaign.accounts.models import Role
from campaign.appeals.access import requires_role
from campaign.appeals.blueprint import bp
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import db
from campaign.markup import render_markdown
from campaign.pdf import PdfMetadata, RenderJob, render_pdf
from campaign.submissions.forms import FollowUpForm
from campaign.submissions.models import Submission
from campaign.submissions.operations import submission_clock
from campaign.time_zones import today_in

DEFAULT_TEXTS = {
    ("ru", "reminder"): (
        "{sent_on} в ваш адрес направлено коллективное обращение, зарегистрированное "
        "{registered_on} под номером {number}.\n\n"
        "Напоминаем, что в соответствии с частью 1 статьи 12 Федерального закона от 02.05.2006 "
        "№ 59-ФЗ «О порядке рассмотрения обращений граждан Российской Федерации» ответ на него "
        "должен быть дан не позднее {due_on}.\n\n"
        "Просим сообщить о ходе рассмотрения обращения по адресу, указанному в нём."
    ),
    ("ru", "complaint"): (
        "{sent_on} в ваш адрес направлено коллективное обращение, зарегистрированное "
        "{registered_on} под номером {number}.\n\n"
        "Срок ответа, установленный частью 1 статьи 12 Федерального закона от 02.05.2006 "
        "№ 59-ФЗ, истёк {due_on}. Ответ заявителями не получен, уведомление о продлении срока "
        "не поступало.\n\n"
        "Просим провести проверку, рассмотреть обращение по существу и дать ответ "
        "представителю заявителей."
    ),
    ("en", "reminder"): (
        "On {sent_on} we sent you a collective appeal, registered on {registered_on} under "
        "number {number}.\n\n"
        "We remind you that an answer is due by {due_on}. Please tell us how its "
        "consideration stands, at the address the appeal gives."
    ),
    ("en", "complaint"): (
        "On {sent_on} we sent you a collective appeal, registered on {registered_on} under "
        "number {number}.\n\n"
        "The term for its answer ended on {due_on}. No answer and no notice of an extension "
        "has reached us. We ask you to consider the appeal and answer its representative."
    ),
}


def default_text(language: str, kind: str) -> str:
    """The letter's starting text in the appeal's language (English when there is none)."""
    return DEFAULT_TEXTS.get((language, kind)) or DEFAULT_TEXTS[("en", kind)]


def _day(value: date | None, language: str) -> str:
    # Official letters in Russian write dates as 05.12.2026; and a sentence may end after one.
    if value is None:
        return "—"
    return format_date(value, "dd.MM.yyyy" if language == "ru" else "d MMMM yyyy")


def facts(submission: Submission) -> dict[str, str]:
    """What the placeholders stand for, in the appeal's language."""
    clock = submission_clock(submission)
    language = submission.appeal.language
    return {
        "sent_on": _day(submission.sent_on, language),
        "registered_on": _day(submission.registered_on, language),
        "number": submission.registration_number or "—",
        "due_on": _day(clock.answer.on if clock.answer else None, language),
        "fingerprint": submission.snapshot.file_sha256,
    }


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the known placeholders only: the text is the organiser's, not a format string."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def render_followup(appeal: Appeal, submission: Submission, kind: str, text: str) -> bytes:
    """Render the letter as PDF bytes, in the appeal's language."""
    with force_locale(appeal.language):
        values = facts(submission)
        title = _("Reminder") if kind == "reminder" else _("Complaint about a missing answer")
        html = render_template(
            "pdf/followup.html",
            language=appeal.language,
            title=title,
            appeal=appeal,
            submission=submission,
            values=values,
            body=render_markdown(fill(text, values)),
            today=_day(today_in(appeal.time_zone), appeal.language),
            edition="followup",
        )
    job = RenderJob(
        html=html,
        metadata=PdfMetadata(title=title, author=appeal.title, language=appeal.language),
    )
    return render_pdf(job, ROOT / "static")


@bp.route("/<int:appeal_id>/submissions/<int:submission_id>/follow-up", methods=["GET", "POST"])
@requires_role(Role.advocate)
def followup(appeal: Appeal, submission_id: int) -> Response | tuple[str, int] | str:
    """Edit the letter's text and download it as PDF."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.appeal_id != appeal.id:
        abort(404)
    form = FollowUpForm()
    if request.method == "GET":
        form.text.data = submission.followup_template or default_text(appeal.language, "reminder")
    elif form.validate_on_submit():
        submission.followup_template = form.text.data
        pdf = render_followup(appeal, submission, form.kind.data, form.text.data)
        record_event(
            appeal.id,
            "submission.followup_drafted",
            subject=("submission", submission.id),
            kind=form.kind.data,
        )
        db.session.commit()
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{appeal.slug}-{submission.id}-{form.kind.data}.pdf"'
        )
        response.headers["Cache-Control"] = "private, no-store"
        return response
    else:
        return render_template(
            "submissions/followup.html",
            appeal=appeal,
            submission=submission,
            form=form,
            defaults=_defaults(appeal),
        ), 400
    return render_template(
        "submissions/followup.html",
        appeal=appeal,
        submission=submission,
        form=form,
        defaults=_defaults(appeal),
    )


def _defaults(appeal: Appeal) -> dict[str, str]:
    return {kind: default_text(appeal.language, kind) for kind in ("reminder", "complaint")}
