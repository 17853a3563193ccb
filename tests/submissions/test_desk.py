"""The submissions desk: recording, bad input, answers and forwarding, scans, deletion."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from campaign.accounts.models import Role
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.submissions.models import Answer, AnswerKind, Channel, Scan, Submission
from campaign.submissions.operations import AnswerData, due_submissions, record_answer
from tests.submissions.conftest import days_ago


def _count(model):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _form(snapshot, **overrides):
    values = {
        "snapshot_id": snapshot,
        "addressee_choice": "The President, Office of the President",
        "addressee_other": "",
        "channel": "post",
        "channel_detail": "RA123456789RU",
        "sent_on": "2026-11-20",
        "received_on": "2026-11-23",
        "registration_number": "",
        "registered_on": "",
        "extension_days": "0",
        "notice_days": "0",
    }
    values.update(overrides)
    return values


def test_record_a_submission_with_its_clock(client, owner_appeal, make_snapshot):
    snapshot = make_snapshot(owner_appeal)
    response = client.post(f"/appeals/{owner_appeal.id}/submissions", data=_form(snapshot.id))
    assert response.status_code == 302
    submission = db.session.scalar(select(Submission))
    assert submission.addressee == "The President, Office of the President"
    assert submission.channel_detail == "RA123456789RU"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Registration due" in page and "59-ФЗ, ст. 8, ч. 2" in page
    listing = client.get(f"/appeals/{owner_appeal.id}/submissions")
    assert listing.headers["Cache-Control"] == "no-store"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.recorded"))
    assert event.details == {"channel": "post"}


def test_a_typed_addressee(client, owner_appeal, make_snapshot):
    snapshot = make_snapshot(owner_appeal)
    data = _form(snapshot.id, addressee_choice="other", addressee_other="Генеральная прокуратура")
    client.post(f"/appeals/{owner_appeal.id}/submissions", data=data)
    assert db.session.scalar(select(Submission.addressee)) == "Генеральная прокуратура"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"snapshot_id": ""}, "Choose the dossier that was handed in."),
        ({"sent_on": "2099-01-01", "received_on": ""}, "This date is in the future."),
        ({"received_on": "2026-11-19"}, "It cannot have been received before it was sent."),
        (
            {"registered_on": "2026-11-22", "registration_number": "A-1"},
            "It cannot have been registered before it was received.",
        ),
        ({"registration_number": "A-1"}, "Give the date of the registration."),
        ({"addressee_choice": "other"}, "Type the addressee."),
        ({"notice_days": "9"}, "Enter a number from 0 to 7."),
    ],
)
def test_bad_submission_input_keeps_what_was_typed_and_stores_nothing(
    client, owner_appeal, make_snapshot, overrides, message
):
    snapshot = make_snapshot(owner_appeal)
    response = client.post(
        f"/appeals/{owner_appeal.id}/submissions", data=_form(snapshot.id, **overrides)
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "RA123456789RU" in page  # what was typed is kept
    assert _count(Submission) == 0


def test_the_snapshot_of_another_appeal_is_refused(
    client, owner_appeal, make_appeal, make_snapshot
):
    foreign = make_snapshot(make_appeal())
    response = client.post(f"/appeals/{owner_appeal.id}/submissions", data=_form(foreign.id))
    assert response.status_code == 400
    assert _count(Submission) == 0


def test_plain_email_warns(client, owner_appeal):
    page = client.get(f"/appeals/{owner_appeal.id}/submissions").get_data(as_text=True)
    assert "547-ФЗ" in page


def test_advocates_record_and_only_owners_delete(
    client, make_published_appeal, make_user, login, make_snapshot, make_submission
):
    advocate = make_user()
    appeal = make_published_appeal(members={advocate: Role.advocate})
    login(advocate)
    snapshot = make_snapshot(appeal)
    assert (
        client.post(f"/appeals/{appeal.id}/submissions", data=_form(snapshot.id)).status_code == 302
    )
    submission = db.session.scalar(select(Submission))
    url = f"/appeals/{appeal.id}/submissions/{submission.id}/delete"
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert _count(Submission) == 1


def test_an_owner_deletes_after_a_confirmation_page(client, owner_appeal, make_submission):
    submission = make_submission(owner_appeal)
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/delete"
    page = client.get(url).get_data(as_text=True)
    assert "Delete the submission to" in page
    assert _count(Submission) == 1
    assert client.post(url).status_code == 302
    assert _count(Submission) == 0
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "submission.deleted" in actions


def test_another_organiser_gets_404(
    client, make_published_appeal, make_user, login, make_submission
):
    appeal = make_published_appeal()
    submission = make_submission(appeal)
    stranger = make_user()
    other = make_published_appeal(owner=stranger)
    login(stranger)
    base = f"/appeals/{appeal.id}/submissions/{submission.id}"
    for url in (base, f"{base}/follow-up", f"{base}/delete"):
        assert client.get(url).status_code == 404
    # Her own appeal's address with someone else's submission is 404 too.
    assert client.get(f"/appeals/{other.id}/submissions/{submission.id}").status_code == 404
    assert client.post(f"/appeals/{other.id}/submissions/{submission.id}/answer").status_code == 404


def _answer(**overrides):
    values = {
        "kind": "answered",
        "answered_on": "2026-12-01",
        "outgoing_number": "OUT-7",
        "summary": "They will look into it.",
        "body": "Your appeal was considered.",
    }
    values.update(overrides)
    return values


def test_an_answer_stops_the_clock(client, owner_appeal, make_submission):
    submission = make_submission(owner_appeal, registered_on=days_ago(owner_appeal, 7))
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}"
    response = client.post(f"{url}/answer", data=_answer(answered_on=days_ago(owner_appeal, 1)))
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "stopped the clock" in page
    assert due_submissions(owner_appeal.memberships[0].user) == []


def test_an_answered_submission_shows_no_countdown(client, owner_appeal, make_submission):
    in_time = make_submission(owner_appeal, registered_on=days_ago(owner_appeal, 7))
    late = make_submission(
        owner_appeal,
        sent_on=days_ago(owner_appeal, 45),
        received_on=days_ago(owner_appeal, 42),
        registered_on=days_ago(owner_appeal, 40),
    )
    unregistered = make_submission(
        owner_appeal, sent_on=days_ago(owner_appeal, 22), received_on=days_ago(owner_appeal, 20)
    )
    pages = {}
    for submission in (in_time, late, unregistered):
        url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}"
        client.post(f"{url}/answer", data=_answer(answered_on=days_ago(owner_appeal, 2)))
        pages[submission] = page = client.get(url).get_data(as_text=True)
        assert "stopped the clock" in page
        assert "days left" not in page and "overdue by" not in page and "due today" not in page
    assert "Answer due" in pages[in_time] and "met: the answer came in time" in pages[in_time]
    # Due 30 days after its registration 40 days ago, answered 2 days ago.
    assert "not met: the answer came 8 days late" in pages[late]
    assert "Registration due" in pages[unregistered] and "the clock stopped" in pages[unregistered]


def test_an_answer_dated_before_its_submission_is_refused(client, owner_appeal, make_submission):
    submission = make_submission(owner_appeal)
    early = (submission.sent_on - timedelta(days=3)).isoformat()
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/answer"
    response = client.post(url, data=_answer(answered_on=early))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The answer cannot be dated before the submission." in page
    assert "They will look into it." in page
    assert f'value="{submission.received_on.isoformat()}"' in page  # the details stay shown
    assert _count(Answer) == 0


def test_forwarding_opens_the_next_hop_with_its_own_clock(client, owner_appeal, make_submission):
    submission = make_submission(owner_appeal, registered_on=days_ago(owner_appeal, 7))
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/answer"
    missing = client.post(
        url, data=_answer(kind="forwarded", answered_on=days_ago(owner_appeal, 2))
    )
    assert "Name the body it was forwarded to." in missing.get_data(as_text=True)
    assert _count(Submission) == 1
    client.post(
        url,
        data=_answer(
            kind="forwarded",
            forwarded_to="Генеральная прокуратура",
            answered_on=days_ago(owner_appeal, 2),
        ),
    )
    hop = db.session.scalar(select(Submission).where(Submission.parent_id == submission.id))
    assert hop.addressee == "Генеральная прокуратура"
    assert hop.snapshot_id == submission.snapshot_id
    assert hop.answer is None
    # The hop's clock runs from its own receipt and registration.
    edit = f"/appeals/{owner_appeal.id}/submissions/{hop.id}"
    data = _form(
        hop.snapshot_id,
        addressee_choice="other",
        addressee_other="Генеральная прокуратура",
        channel="other",
        sent_on=days_ago(owner_appeal, 2).isoformat(),
        received_on=days_ago(owner_appeal, 1).isoformat(),
        registered_on=days_ago(owner_appeal, 1).isoformat(),
        registration_number="GP-1",
    )
    assert client.post(edit, data=data).status_code == 302
    db.session.refresh(hop)
    assert hop.registration_number == "GP-1"
    from campaign.submissions.operations import submission_clock

    assert submission_clock(hop).next.on == days_ago(owner_appeal, 1) + timedelta(days=30)


def test_the_overdue_list(client, owner_appeal, make_published_appeal, make_submission, make_user):
    overdue = make_submission(
        owner_appeal,
        registered_on=days_ago(owner_appeal, 40),
        received_on=days_ago(owner_appeal, 41),
        sent_on=days_ago(owner_appeal, 42),
    )
    soon = make_submission(
        owner_appeal,
        registered_on=days_ago(owner_appeal, 25),
        received_on=days_ago(owner_appeal, 26),
        sent_on=days_ago(owner_appeal, 27),
    )
    make_submission(owner_appeal, registered_on=days_ago(owner_appeal, 2))  # far off
    answered = make_submission(
        owner_appeal,
        registered_on=days_ago(owner_appeal, 40),
        received_on=days_ago(owner_appeal, 41),
        sent_on=days_ago(owner_appeal, 42),
    )
    record_answer(
        answered,
        AnswerData(AnswerKind.refused, days_ago(owner_appeal, 1)),
        owner_appeal.memberships[0].user,
    )
    make_submission(  # not hers
        make_published_appeal(),
        registered_on=days_ago(owner_appeal, 40),
        received_on=days_ago(owner_appeal, 41),
        sent_on=days_ago(owner_appeal, 42),
    )
    db.session.commit()
    items = due_submissions(owner_appeal.memberships[0].user)
    assert [item.submission.id for item in items] == [overdue.id, soon.id]
    assert items[0].days_left == -10 and items[1].days_left == 5
    page = client.get("/appeals/due")
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "overdue by 10 days" in text and "5 days left" in text


def _png():
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, format="PNG")
    return out.getvalue()


def _pdf():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "data"), [("receipt.png", _png()), ("stamp.PDF", _pdf())])
def test_a_scan_is_stored_privately_and_served_to_members_only(
    client, owner_appeal, make_submission, app, name, data
):
    submission = make_submission(owner_appeal)
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/scans"
    response = client.post(
        url,
        data={"kind": "receipt", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    scan = db.session.scalar(select(Scan))
    from campaign.submissions.scans import scan_path

    path = scan_path(scan.filename)
    assert path.read_bytes() == data and (path.stat().st_mode & 0o777) == 0o600
    assert name not in scan.filename
    with client.get(f"{url}/{scan.id}") as download:
        assert download.data == data
        assert "no-store" in download.headers["Cache-Control"]
    client.post("/accounts/logout")
    assert client.get(f"{url}/{scan.id}").status_code == 302  # to the login page


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("receipt.pdf", _png(), "The file is not what its name says"),
        ("receipt.png", b"GIF89a" + b"\0" * 100, "Only PDF, JPEG and PNG files are accepted."),
        ("receipt.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "The file cannot be opened"),
        ("receipt.pdf", b"%PDF-1.7\n" + b"x" * (300 * 1024), "The file is larger than 0.3 MB."),
    ],
)
def test_a_bad_scan_is_refused(client, owner_appeal, make_submission, app, name, data, message):
    app.config["SUBMISSION_SCAN_MAX_BYTES"] = 300 * 1024
    submission = make_submission(owner_appeal)
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/scans"
    response = client.post(
        url,
        data={"kind": "receipt", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code in (400, 413)
    assert message in response.get_data(as_text=True)
    assert _count(Scan) == 0
    scans = Path(app.config["SUBMISSION_SCANS_DIR"])
    assert not scans.exists() or not list(scans.iterdir())


def _upload(client, appeal, submission, data=None, name="receipt.png"):
    return client.post(
        f"/appeals/{appeal.id}/submissions/{submission.id}/scans",
        data={"kind": "receipt", "file": (io.BytesIO(data or _png()), name)},
        content_type="multipart/form-data",
    )


def test_a_scan_the_disk_refuses_stores_nothing(
    client, owner_appeal, make_submission, app, monkeypatch
):
    submission = make_submission(owner_appeal)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("campaign.file_changes.write_private", full)
    response = _upload(client, owner_appeal, submission)
    assert response.status_code == 500
    assert "The server could not change the stored files" in response.get_data(as_text=True)
    assert _count(Scan) == 0
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "submission.scan_added" not in actions


def test_a_scan_whose_record_fails_leaves_no_file(
    client, owner_appeal, make_submission, app, monkeypatch
):
    submission = make_submission(owner_appeal)

    class Failing:  # the database as the scan's commit meets it
        class session:
            rollback = staticmethod(db.session.rollback)

            @staticmethod
            def commit():
                raise RuntimeError("the database went away")

    monkeypatch.setattr("campaign.file_changes.db", Failing)
    with pytest.raises(RuntimeError):
        _upload(client, owner_appeal, submission)
    monkeypatch.undo()
    assert _count(Scan) == 0
    assert not list(Path(app.config["SUBMISSION_SCANS_DIR"]).iterdir())


def test_deleting_a_submission_deletes_its_scans_files(client, owner_appeal, make_submission, app):
    submission = make_submission(owner_appeal)
    assert _upload(client, owner_appeal, submission).status_code == 302
    assert _upload(client, owner_appeal, submission, _pdf(), "answer.pdf").status_code == 302
    scans = Path(app.config["SUBMISSION_SCANS_DIR"])
    assert len(list(scans.iterdir())) == 2
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/delete"
    assert client.post(url).status_code == 302
    assert _count(Submission) == 0
    assert not list(scans.iterdir())


def test_a_submission_whose_scans_the_disk_keeps_is_not_deleted(
    client, owner_appeal, make_submission, app, monkeypatch
):
    submission = make_submission(owner_appeal)
    assert _upload(client, owner_appeal, submission).status_code == 302

    def refused(self, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "rename", refused)
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/delete"
    response = client.post(url)
    monkeypatch.undo()
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "The server could not change the stored files" in page
    assert "Delete the submission to" in page  # asked again
    assert _count(Submission) == 1 and _count(Scan) == 1
    (scan,) = Path(app.config["SUBMISSION_SCANS_DIR"]).iterdir()
    assert scan.read_bytes() == _png()
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "submission.deleted" not in actions


def test_an_upload_over_the_limit_is_refused_unread(client, owner_appeal, make_submission, app):
    app.config["SUBMISSION_SCAN_MAX_BYTES"] = 100 * 1024
    submission = make_submission(owner_appeal)
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}/scans"
    data = b"%PDF-1.7\n" + b"x" * (300 * 1024)
    response = client.post(
        url,
        data={"kind": "receipt", "file": (io.BytesIO(data), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The file is larger than 0.1 MB." in response.get_data(as_text=True)
    assert _count(Scan) == 0


def test_the_desk_names_a_weekend_due_date_and_warns_of_plain_email(
    client, owner_appeal, make_submission
):
    today = days_ago(owner_appeal, 0)
    # Registered so that the answer falls on the next Saturday or Sunday from today.
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    registered = saturday - timedelta(days=30)
    submission = make_submission(
        owner_appeal,
        channel=Channel.email,
        sent_on=registered - timedelta(days=2),
        received_on=registered - timedelta(days=1),
        registered_on=registered,
    )
    page = client.get(f"/appeals/{owner_appeal.id}/submissions/{submission.id}").get_data(
        as_text=True
    )
    assert f'datetime="{saturday.isoformat()}"' in page
    assert "Saturday, a weekend day" in page
    assert "547-ФЗ" in page  # the e-mail channel warns on its submission too


def test_deleting_an_appeal_takes_its_submissions_and_snapshots(
    make_published_appeal, make_submission
):
    from sqlalchemy import delete

    from campaign.appeals.models import Appeal
    from campaign.dossiers.models import DossierSnapshot

    appeal = make_published_appeal()
    submission = make_submission(appeal, registered_on=days_ago(appeal, 5))
    record_answer(
        submission,
        AnswerData(AnswerKind.forwarded, days_ago(appeal, 1), forwarded_to="Elsewhere"),
        appeal.memberships[0].user,
    )
    db.session.commit()
    db.session.execute(delete(Appeal).where(Appeal.id == appeal.id))
    db.session.commit()
    assert _count(Submission) == 0 and _count(DossierSnapshot) == 0


def test_the_plain_email_warning_dates_its_law_as_the_desk_writes_dates(client, owner_appeal):
    url = f"/appeals/{owner_appeal.id}/submissions"
    ru = client.get(url, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    ru = ru.replace("\u00a0", " ").replace("\u202f", " ")
    assert "С 30 мар. 2025 г. обращение" in ru and "2025-03-30" not in ru
    en = client.get(url).get_data(as_text=True).replace("\u202f", " ")
    assert "Since Mar 30, 2025 an appeal" in en
