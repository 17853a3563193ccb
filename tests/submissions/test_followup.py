"""The follow-up letter: the organiser's text, kept, rendered as a PDF that lists the
submission's date, number and the dossier's fingerprint."""

import io

from pypdf import PdfReader

from campaign.audit.models import AuditEvent
from campaign.extensions import db
from tests.submissions.conftest import days_ago


def test_the_follow_up_letter_is_a_pdf_with_the_submissions_facts(
    client, make_published_appeal, make_user, login, make_submission
):
    owner = make_user()
    appeal = make_published_appeal(owner=owner)
    submission = make_submission(
        appeal,
        registered_on=days_ago(appeal, 40),
        received_on=days_ago(appeal, 41),
        sent_on=days_ago(appeal, 42),
        registration_number="REG-77",
    )
    login(owner)
    url = f"/appeals/{appeal.id}/submissions/{submission.id}/follow-up"
    page = client.get(url).get_data(as_text=True)
    assert "{registered_on}" in page  # the starting text, with its placeholders
    text = (
        "We wrote on {sent_on} (number {number}); the answer was due {due_on}. **Please answer.**"
    )
    response = client.post(url, data={"kind": "complaint", "text": text})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    reader = PdfReader(io.BytesIO(response.data))
    content = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Complaint about a missing answer" in content
    assert "number REG-77" in content and "Please answer." in content
    assert submission.snapshot.file_sha256 in content.replace(" ", "")
    assert days_ago(appeal, 42).strftime("%-d %B %Y") in content
    db.session.refresh(submission)
    assert submission.followup_template == text  # kept for the next letter
    assert db.session.query(AuditEvent).filter_by(action="submission.followup_drafted").count() == 1


def test_an_empty_letter_is_refused(
    client, make_published_appeal, make_user, login, make_submission
):
    owner = make_user()
    appeal = make_published_appeal(owner=owner)
    submission = make_submission(appeal)
    login(owner)
    url = f"/appeals/{appeal.id}/submissions/{submission.id}/follow-up"
    response = client.post(url, data={"kind": "reminder", "text": ""})
    assert response.status_code == 400
    assert "Write the letter." in response.get_data(as_text=True)
