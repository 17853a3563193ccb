"""Signatories' private details are erased a set time after the appeal ends; counts, public
names and dossiers already made stay; each erasure is audited."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import Role
from campaign.appeals.models import AppealStatus
from campaign.appeals.operations import close_appeal, signature_counts
from campaign.audit.models import AuditEvent
from campaign.clock import utcnow
from campaign.dossiers.models import Edition
from campaign.dossiers.operations import cache_folder, make_snapshot, snapshot_path
from campaign.extensions import db
from campaign.file_changes import HIDDEN_PREFIX
from campaign.mail_queue import MailStatus, OutgoingMail, queue_mail
from campaign.signatures.models import Signature, SignatureAnswer, SignatureImage
from campaign.signatures.paper import scans_folder, store_scan, stored_scans
from campaign.signatures.retention import (
    PrivateDetails,
    appeal_end,
    erase_private_data,
    erasure_due,
    private_data_expiry,
    private_details,
)
from campaign.submissions.models import Channel, Submission
from tests import private_values as planted
from tests.audit_log import logged, logged_count
from tests.scan_files import pdf_scan


@pytest.fixture
def app_config(tmp_path):
    return {
        "SIGN_MIN_SECONDS": 0,
        "DOSSIER_FOLDER": str(tmp_path / "dossiers"),
        "DOSSIER_PROCESSES": 1,
        "DOSSIER_SIGNING_CERT": str(tmp_path / "none.p12"),
    }


@pytest.fixture
def owner(open_appeal):
    return open_appeal.memberships[0].user


@pytest.fixture
def signed(open_appeal):
    planted.ask_everything(open_appeal)
    return [planted.plant(open_appeal, n) for n in range(1, 4)]


def ended(appeal, months_ago=0, days_ago=0):
    appeal.status = AppealStatus.closed
    appeal.closed_at = utcnow() - timedelta(days=31 * months_ago + days_ago)
    db.session.commit()


def private_left():
    return {
        "contacts": db.session.scalar(
            select(func.count()).where(
                (Signature.email.is_not(None)) | (Signature.phone.is_not(None))
            )
        ),
        "addresses": db.session.scalar(select(func.count(Signature.postal_address))),
        "helpers": db.session.scalar(select(func.count(Signature.helper_name))),
        "hashes": db.session.scalar(select(func.count(Signature.email_hash))),
        "images": db.session.scalar(select(func.count()).select_from(SignatureImage)),
        "answers": sorted(db.session.scalars(select(SignatureAnswer.value))),
    }


def test_the_expiry_is_calendar_months_after_the_end(app):
    end = datetime(2027, 1, 31, 18, 0, tzinfo=UTC)
    assert private_data_expiry(end) == datetime(2028, 1, 31, 18, 0, tzinfo=UTC)  # 12
    app.config["PRIVATE_DATA_RETENTION_MONTHS"] = 1
    assert private_data_expiry(end) == datetime(2027, 2, 28, 18, 0, tzinfo=UTC)
    app.config["PRIVATE_DATA_RETENTION_MONTHS"] = 13
    assert private_data_expiry(end) == datetime(2028, 2, 29, 18, 0, tzinfo=UTC)


def test_an_appeal_ends_when_closed_or_after_its_deadline(make_appeal, open_appeal):
    assert appeal_end(make_appeal()) is None  # a draft
    assert appeal_end(open_appeal) is None and erasure_due(open_appeal) is None
    open_appeal.deadline = date.today() + timedelta(days=3)
    assert appeal_end(open_appeal) is None  # still running
    # Its deadline's last day over, in its time zone, it has ended though still "open".
    open_appeal.time_zone = "Europe/Moscow"
    open_appeal.deadline = date(2026, 3, 10)
    assert appeal_end(open_appeal) == datetime(2026, 3, 10, 21, 0, tzinfo=UTC)
    # Closed before its deadline: it ended when it was closed.
    open_appeal.deadline = date.today() + timedelta(days=30)
    close_appeal(open_appeal)
    assert appeal_end(open_appeal) == open_appeal.closed_at
    assert erasure_due(open_appeal) == private_data_expiry(open_appeal.closed_at)


def test_a_dossier_handed_in_after_the_end_keeps_the_details_until_then(open_appeal):
    from tests.submissions.conftest import snapshot_row

    close_appeal(open_appeal)
    open_appeal.closed_at = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
    db.session.commit()
    assert appeal_end(open_appeal) == open_appeal.closed_at
    open_appeal.time_zone = "Europe/Moscow"
    for sent_on in (date(2024, 6, 1), date(2024, 9, 30), date(2023, 12, 1)):  # one before
        submission = Submission(
            appeal_id=open_appeal.id,
            snapshot_id=snapshot_row(open_appeal, sent_on.month).id,
            addressee="The President",
            channel=Channel.post,
            sent_on=sent_on,
        )
        db.session.add(submission)
    db.session.commit()
    # The last day one was sent, over in the appeal's time zone: the erasure counts from there.
    assert appeal_end(open_appeal) == datetime(2024, 9, 30, 21, 0, tzinfo=UTC)
    assert erasure_due(open_appeal) == private_data_expiry(datetime(2024, 9, 30, 21, 0, tzinfo=UTC))


def test_an_erasure_removes_every_private_detail_and_keeps_the_rest(open_appeal, signed):
    public_before = [(s.surname, s.given_name, s.region, s.display, s.status) for s in signed]
    count_before = signature_counts([open_appeal.id])[open_appeal.id]
    snapshot = make_snapshot(open_appeal, Edition.public, user=None)
    db.session.commit()
    assert cache_folder(open_appeal.id).exists()
    ended(open_appeal)
    assert private_details(open_appeal.id).signatures == 3

    assert erase_private_data(open_appeal, reason="owner").signatures == 3
    db.session.commit()
    assert private_left() == {
        "contacts": 0,
        "addresses": 0,
        "helpers": 0,
        "hashes": 0,
        "images": 0,
        "answers": [planted.PUBLIC_ANSWER] * 3,  # answers to the public question stay
    }
    db.session.expire_all()
    assert [
        (s.surname, s.given_name, s.region, s.display, s.status)
        for s in db.session.scalars(select(Signature).order_by(Signature.id))
    ] == public_before
    assert signature_counts([open_appeal.id])[open_appeal.id] == count_before == 3
    assert snapshot_path(snapshot).exists()  # no private detail in it (the others: submissions)
    assert not cache_folder(open_appeal.id).exists()  # the rendered blocks held addresses
    [event] = db.session.scalars(logged()).all()
    assert (event.action, event.subject_type, event.subject_id, event.details) == (
        "appeal.private_data_erased",
        "appeal",
        open_appeal.id,
        {"signatures": 3, "scans": 0, "mails": 0, "dossiers": 0, "reason": "owner"},
    )
    # Nothing left: nothing done, nothing recorded.
    assert not erase_private_data(open_appeal, reason="owner")
    db.session.commit()
    assert db.session.scalar(logged_count()) == 1


def test_purge_private_erases_where_the_retention_time_is_over(
    runner, make_published_appeal, open_appeal, signed
):
    # Ended 13 months ago, 11 months ago, by a deadline 13 months ago, and one still open.
    ended(open_appeal, months_ago=13)
    recent, by_deadline, running = (make_published_appeal(language="en") for _ in range(3))
    for appeal in (recent, by_deadline, running):
        planted.ask_everything(appeal)
    for n, appeal in enumerate((recent, by_deadline, running), start=10):
        planted.plant(appeal, n)
    ended(recent, months_ago=11)
    by_deadline.deadline = (utcnow() - timedelta(days=31 * 13)).date()
    db.session.commit()

    result = runner.invoke(args=["signatures", "purge-private"])
    assert result.exit_code == 0, result.output
    assert f"Appeal {open_appeal.id}: private details of 3 signature(s) and 0 sheet scan(s)" in (
        result.output
    )
    assert f"Appeal {by_deadline.id}: private details of 1 signature(s) and 0" in result.output
    assert "Private details erased in 2 appeal(s) ended more than 12 month(s) ago." in (
        result.output
    )
    remaining = {
        appeal.id: private_details(appeal.id).signatures
        for appeal in (open_appeal, recent, by_deadline, running)
    }
    assert remaining == {open_appeal.id: 0, recent.id: 1, by_deadline.id: 0, running.id: 1}
    events = db.session.scalars(logged().order_by(AuditEvent.appeal_id)).all()
    assert [(e.appeal_id, e.via, e.actor_id, e.details["reason"]) for e in events] == [
        (open_appeal.id, "cli", None, "retention"),
        (by_deadline.id, "cli", None, "retention"),
    ]

    # Daily from cron: a second run finds nothing more; a shorter setting reaches the recent one.
    again = runner.invoke(args=["signatures", "purge-private"])
    assert "Private details erased in 0 appeal(s)" in again.output
    runner.app.config["PRIVATE_DATA_RETENTION_MONTHS"] = 10
    shorter = runner.invoke(args=["signatures", "purge-private"])
    assert f"Appeal {recent.id}: private details of 1 signature(s)" in shorter.output


# The owner's page.


def test_the_owner_erases_after_a_confirmation(client, login, open_appeal, owner, signed):
    ended(open_appeal, days_ago=2)
    login(owner)
    overview = client.get(f"/appeals/{open_appeal.id}/").get_data(as_text=True)
    due = erasure_due(open_appeal)
    assert "They will be erased automatically on" in overview
    assert "12 months after the appeal ended" in overview
    assert f'href="/appeals/{open_appeal.id}/private-data"' in overview

    page = client.get(f"/appeals/{open_appeal.id}/private-data")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.get_data(as_text=True))
    assert "Erase the signatories’ private details?" in text
    assert "<dt>Emails and phone numbers</dt><dd>3</dd>" in text
    assert "<dt>Drawn signatures</dt><dd>3</dd>" in text
    assert "<dt>Answers to private questions</dt><dd>3</dd>" in text
    assert "3 signatures hold some of them." in text
    assert f"{due.year}" in text

    unconfirmed = client.post(f"/appeals/{open_appeal.id}/private-data", data={})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm that you understand." in unconfirmed.get_data(as_text=True)
    assert private_details(open_appeal.id).signatures == 3  # nothing erased

    done = client.post(f"/appeals/{open_appeal.id}/private-data", data={"confirm": "y"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/appeals/{open_appeal.id}/")
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "The private details of 3 signatories were erased." in after
    assert "None of them is kept now." in after
    assert private_details(open_appeal.id).signatures == 0
    event = db.session.scalars(logged()).one()
    assert (event.actor_id, event.via, event.details["reason"]) == (owner.id, "web", "owner")


def test_an_appeal_still_running_cannot_be_erased(client, login, open_appeal, owner, signed):
    login(owner)
    page = client.get(f"/appeals/{open_appeal.id}/private-data").get_data(as_text=True)
    assert "The appeal still accepts signatures." in page
    assert 'name="confirm"' not in page
    refused = client.post(f"/appeals/{open_appeal.id}/private-data", data={"confirm": "y"})
    assert refused.status_code == 409
    assert "Nothing was erased: the appeal still accepts signatures." in (
        refused.get_data(as_text=True)
    )
    assert private_details(open_appeal.id).signatures == 3
    overview = client.get(f"/appeals/{open_appeal.id}/").get_data(as_text=True)
    assert "They are erased automatically 12 months after the appeal ends" in overview


def test_only_owners_erase(client, login, make_user, open_appeal, signed):
    editor = make_user()
    from campaign.accounts.models import Membership

    db.session.add(Membership(appeal_id=open_appeal.id, user=editor, role=Role.editor))
    ended(open_appeal)
    login(editor)
    assert client.get(f"/appeals/{open_appeal.id}/private-data").status_code == 403
    refused = client.post(f"/appeals/{open_appeal.id}/private-data", data={"confirm": "y"})
    assert refused.status_code == 403
    overview = client.get(f"/appeals/{open_appeal.id}/").get_data(as_text=True)
    assert "They will be erased automatically on" in overview
    assert "/private-data" not in overview  # no button for an editor
    assert private_details(open_appeal.id).signatures == 3


def test_an_owner_of_another_appeal_gets_404(client, login, make_published_appeal, open_appeal):
    stranger = make_published_appeal().memberships[0].user
    ended(open_appeal)
    login(stranger)
    assert client.get(f"/appeals/{open_appeal.id}/private-data").status_code == 404
    refused = client.post(f"/appeals/{open_appeal.id}/private-data", data={"confirm": "y"})
    assert refused.status_code == 404


def test_the_erasure_form_needs_its_csrf_token(app, client, login, open_appeal, owner, signed):
    ended(open_appeal)
    login(owner)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/appeals/{open_appeal.id}/private-data").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    forged = client.post(f"/appeals/{open_appeal.id}/private-data", data={"confirm": "y"})
    assert forged.status_code == 400
    assert "The form had expired or came from elsewhere." in forged.get_data(as_text=True)
    assert private_details(open_appeal.id).signatures == 3
    done = client.post(
        f"/appeals/{open_appeal.id}/private-data", data={"confirm": "y", "csrf_token": token}
    )
    assert done.status_code == 302
    assert private_details(open_appeal.id).signatures == 0


# The scans of signed paper sheets: signatures in ink, often addresses.


def scanned(app, appeal, *sheets):
    with app.test_request_context():
        for sheet in sheets:
            store_scan(appeal, sheet, pdf_scan())
    db.session.commit()
    return scans_folder(appeal.id)


def test_an_erasure_deletes_the_scans_of_signed_sheets_once_committed(app, open_appeal, signed):
    folder = scanned(app, open_appeal, 3, 4)
    (folder / f"{HIDDEN_PREFIX}sheet-9.pdf").write_bytes(b"set aside by a change cut off")
    ended(open_appeal)
    assert private_details(open_appeal.id).scans == 2

    erased = erase_private_data(open_appeal, reason="retention")
    assert (erased.signatures, erased.scans) == (3, 2)
    assert len(list(folder.iterdir())) == 3  # nothing is deleted before the commit
    db.session.commit()
    assert list(folder.iterdir()) == []
    assert stored_scans(open_appeal.id) == {}
    assert private_details(open_appeal.id) == PrivateDetails()
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "appeal.private_data_erased")
    ).one()
    assert event.details == {
        "signatures": 3,
        "scans": 2,
        "mails": 0,
        "dossiers": 0,
        "reason": "retention",
    }


def test_an_erasure_rolled_back_keeps_the_scans(app, open_appeal, signed):
    folder = scanned(app, open_appeal, 3)
    ended(open_appeal)
    assert erase_private_data(open_appeal, reason="owner")
    db.session.rollback()
    assert [path.name for path in folder.iterdir()] == ["sheet-3.pdf"]
    db.session.commit()  # a later commit does not run the dropped deletion
    assert [path.name for path in folder.iterdir()] == ["sheet-3.pdf"]
    assert private_details(open_appeal.id).signatures == 3


def test_a_scan_the_disk_keeps_is_logged_and_taken_by_the_next_run(
    app, runner, open_appeal, signed, monkeypatch, caplog
):
    folder = scanned(app, open_appeal, 3)
    ended(open_appeal, months_ago=13)
    unlink = Path.unlink

    def kept(self, missing_ok=False):
        if self.parent == folder:
            raise OSError(5, "Input/output error")
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", kept)
    first = runner.invoke(args=["signatures", "purge-private"])
    monkeypatch.undo()
    assert first.exit_code == 0, first.output
    assert "private details of 3 signature(s) and 1 sheet scan(s) erased" in first.output
    assert "could not be deleted from the disk" in caplog.text
    assert str(folder / "sheet-3.pdf") in caplog.text  # where to remove it by hand
    assert private_details(open_appeal.id).scans == 1  # still on the overview

    second = runner.invoke(args=["signatures", "purge-private"])
    assert "private details of 0 signature(s) and 1 sheet scan(s) erased" in second.output
    assert list(folder.iterdir()) == []
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "appeal.private_data_erased")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.details["signatures"], e.details["scans"]) for e in events] == [(3, 1), (0, 1)]


def test_the_owner_sees_the_scans_among_what_is_erased(client, login, open_appeal, owner, signed):
    scanned(client.application, open_appeal, 1, 2)
    ended(open_appeal, days_ago=2)
    login(owner)
    text = re.sub(
        r"\s+", " ", client.get(f"/appeals/{open_appeal.id}/private-data").get_data(as_text=True)
    )
    assert "<dt>Scans of signed sheets</dt><dd>2</dd>" in text
    assert "no drawn signatures and no scanned sheets" in text
    done = client.post(f"/appeals/{open_appeal.id}/private-data", data={"confirm": "y"})
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "The private details of 3 signatories were erased." in after
    assert "The scans of 2 signed sheets were deleted." in after
    assert "None of them is kept now." in after
    assert stored_scans(open_appeal.id) == {}


def test_scans_alone_keep_the_erasure_open(client, login, open_appeal, owner, signed):
    ended(open_appeal, days_ago=2)
    erase_private_data(open_appeal, reason="owner")
    db.session.commit()
    scanned(client.application, open_appeal, 5)  # a sheet scanned after the erasure
    login(owner)
    overview = client.get(f"/appeals/{open_appeal.id}/").get_data(as_text=True)
    assert "None of them is kept now." not in overview
    assert "They will be erased automatically on" in overview
    page = re.sub(
        r"\s+", " ", client.get(f"/appeals/{open_appeal.id}/private-data").get_data(as_text=True)
    )
    assert "<dt>Scans of signed sheets</dt><dd>1</dd>" in page
    assert "signatures hold some of them" not in page
    done = client.post(f"/appeals/{open_appeal.id}/private-data", data={"confirm": "y"})
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "The scan of 1 signed sheet was deleted." in after
    assert "The private details of 0 signatories" not in after  # nothing to say of them
    assert stored_scans(open_appeal.id) == {}


def test_an_erasure_deletes_the_signers_mail_not_sent_yet(app, runner, open_appeal, signed):
    with app.test_request_context():
        dead, _queued, sending = (
            queue_mail(f"s{n}@example.org", "Subject", "Link", purpose="signatures.confirm",
                       commit=False, appeal_id=open_appeal.id)
            for n in range(3)
        )  # fmt: skip
        account = queue_mail("o@example.org", "Subject", "Text", purpose="accounts.signup",
                             commit=False)  # fmt: skip
    db.session.get(OutgoingMail, dead).status = MailStatus.dead
    db.session.get(OutgoingMail, sending).claimed_until = utcnow() + timedelta(minutes=5)
    ended(open_appeal, months_ago=13)

    result = runner.invoke(args=["signatures", "purge-private"])
    assert result.exit_code == 0, result.output
    assert "3 signature(s) and 0 sheet scan(s) erased; 2 unsent mail(s) and 0 dossier" in (
        result.output
    )
    db.session.expire_all()
    left = db.session.scalars(select(OutgoingMail.id).order_by(OutgoingMail.id)).all()
    assert left == [sending, account]  # its job deletes the one it is sending once sent
    event = db.session.scalars(logged()).one()
    assert event.details["mails"] == 2
