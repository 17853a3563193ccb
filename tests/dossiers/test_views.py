"""Organisers ask for a dossier, watch it render, download it; anyone checks a copy."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from asn1crypto import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from campaign.accounts.models import Membership, Role
from campaign.clock import utcnow
from campaign.dossiers.models import DossierJob, DossierSnapshot, Edition, JobStatus
from campaign.dossiers.operations import give_up_if_stalled, make_snapshot, snapshot_path
from campaign.extensions import db
from tests.audit_log import logged, logged_count
from tests.dossiers.pdftools import page_texts


@pytest.fixture
def owner(open_appeal):
    return open_appeal.memberships[0].user


@pytest.fixture
def snapshot(open_appeal, make_signature):
    make_signature(open_appeal, postal_address="ул. Секретная, 13", email="secret@example.org")
    made = make_snapshot(open_appeal, Edition.submission, user=None)
    db.session.commit()
    return made


def test_owner_makes_a_dossier_and_downloads_it(client, login, open_appeal, owner, make_signature):
    make_signature(open_appeal)
    login(owner)
    page = client.get(f"/appeals/{open_appeal.id}/dossiers")
    assert page.status_code == 200
    assert "No dossier has been made yet." in page.get_data(as_text=True)
    response = client.post(
        f"/appeals/{open_appeal.id}/dossiers", data={"edition": "public", "landscape": "y"}
    )
    assert response.status_code == 302
    job = db.session.scalars(db.select(DossierJob)).one()
    assert response.headers["Location"].endswith(
        f"/appeals/{open_appeal.id}/dossiers/jobs/{job.id}"
    )
    assert job.status is JobStatus.done and job.progress == 100
    assert job.edition is Edition.public and job.landscape
    progress = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The dossier is ready." in progress
    assert 'http-equiv="refresh"' not in progress
    with client.get(f"/appeals/{open_appeal.id}/dossiers/{job.snapshot_id}.pdf") as download:
        data = download.data
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "private, no-store"
    assert hashlib.sha256(data).hexdigest() == job.snapshot.file_sha256
    listing = client.get(f"/appeals/{open_appeal.id}/dossiers").get_data(as_text=True)
    assert job.snapshot_id in listing and "Public edition" in listing


def test_progress_page_refreshes_while_rendering(client, login, open_appeal, owner):
    job = DossierJob(appeal_id=open_appeal.id, edition=Edition.submission)
    job.status, job.progress = JobStatus.running, 40
    db.session.add(job)
    db.session.commit()
    login(owner)
    page = client.get(f"/appeals/{open_appeal.id}/dossiers/jobs/{job.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Making the dossier: 40 %" in page
    assert 'value="40"' in page


def stalled_job(app, appeal):
    """A render whose worker has not reported for longer than a render may take."""
    job = DossierJob(appeal_id=appeal.id, edition=Edition.submission, status=JobStatus.running)
    db.session.add(job)
    db.session.commit()
    job.updated_at = utcnow() - timedelta(seconds=app.config["DOSSIER_TIME_LIMIT"] + 120)
    db.session.commit()
    return job


def test_a_job_stuck_past_its_time_limit_is_shown_as_failed(client, login, open_appeal, owner, app):
    job = stalled_job(app, open_appeal)
    login(owner)
    page = client.get(f"/appeals/{open_appeal.id}/dossiers/jobs/{job.id}").get_data(as_text=True)
    assert "The dossier could not be made." in page
    assert 'http-equiv="refresh"' not in page
    assert db.session.get(DossierJob, job.id).status is JobStatus.failed


def test_a_render_finishing_as_it_is_given_up_keeps_its_result(app, open_appeal):
    job = stalled_job(app, open_appeal)
    # Read as stalled; then its worker reports, from another connection.
    assert job.status is JobStatus.running
    with db.engine.begin() as worker:
        worker.execute(
            db.update(DossierJob)
            .where(DossierJob.id == job.id)
            .values(status=JobStatus.done, progress=100)
        )
    assert not give_up_if_stalled(job)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(DossierJob, job.id).status is JobStatus.done


def test_a_failed_render_says_why_and_leaves_no_snapshot(
    client, login, open_appeal, owner, make_signature, app
):
    make_signature(open_appeal)
    app.config["DOSSIER_TIME_LIMIT"] = 0.01
    login(owner)
    response = client.post(
        f"/appeals/{open_appeal.id}/dossiers", data={"edition": "submission"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "The dossier could not be made." in page
    assert "took longer than the time allowed" in page
    assert db.session.query(DossierSnapshot).count() == 0
    assert not list(snapshot_path(DossierSnapshot(filename="x")).parent.rglob("*/*.pdf"))


def test_the_list_shows_renders_under_way_and_failed_lately(
    client, login, open_appeal, owner, make_user, make_appeal, app
):
    def job(status, **values):
        made = DossierJob(appeal_id=open_appeal.id, edition=Edition.submission, status=status)
        for name, value in values.items():
            setattr(made, name, value)
        db.session.add(made)
        db.session.commit()
        return made

    running = job(JobStatus.running, progress=40)
    failed = job(JobStatus.failed, error="timeout")
    old = job(JobStatus.failed, error="layout")
    old.updated_at = utcnow() - timedelta(days=8)
    stalled = stalled_job(app, open_appeal)
    job(JobStatus.done)

    login(owner)
    page = client.get(f"/appeals/{open_appeal.id}/dossiers").get_data(as_text=True)
    assert "being made, 40 %." in page
    assert "took longer than the time allowed" in page
    assert "The PDF could not be laid out." not in page  # failed a week ago and more
    assert "The render was interrupted. Please try again." in page  # its worker died
    assert db.session.get(DossierJob, stalled.id).status is JobStatus.failed
    for shown in (running, failed, stalled):
        assert f"/appeals/{open_appeal.id}/dossiers/jobs/{shown.id}" in page
    # Another organiser's list shows none of them.
    stranger = make_user()
    own = make_appeal(owner=stranger)
    client.post("/accounts/logout")
    login(stranger)
    other = client.get(f"/appeals/{own.id}/dossiers").get_data(as_text=True)
    assert "Renders under way or failed" not in other


def test_a_render_given_up_for_withdrawals_says_so(client, login, open_appeal, owner, monkeypatch):
    from campaign.dossiers import operations

    def withdrawn(*_args, **_options):
        raise operations.SignersWithdrew

    monkeypatch.setattr(operations, "make_snapshot", withdrawn)
    login(owner)
    response = client.post(
        f"/appeals/{open_appeal.id}/dossiers",
        data={"edition": "public"},
        headers={"Accept-Language": "ru"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Пока готовилось досье, подписи продолжали отзывать" in page
    job = db.session.scalars(db.select(DossierJob)).one()
    assert (job.status, job.error) == (JobStatus.failed, "withdrawals")
    assert db.session.query(DossierSnapshot).count() == 0


def test_the_progress_page_speaks_russian(client, login, open_appeal, owner):
    job = DossierJob(appeal_id=open_appeal.id, edition=Edition.sheets, progress=10)
    job.status = JobStatus.running
    db.session.add(job)
    db.session.commit()
    login(owner)
    page = client.get(
        f"/appeals/{open_appeal.id}/dossiers/jobs/{job.id}", headers={"Accept-Language": "ru"}
    ).get_data(as_text=True)
    assert "Досье готовится: 10 %" in page and "Подписные листы" in page


def test_unknown_edition_is_refused_and_nothing_queued(client, login, open_appeal, owner):
    login(owner)
    response = client.post(f"/appeals/{open_appeal.id}/dossiers", data={"edition": "everything"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.query(DossierJob).count() == 0


def test_a_draft_has_no_dossier(client, login, make_appeal):
    appeal = make_appeal()
    login(appeal.memberships[0].user)
    response = client.post(f"/appeals/{appeal.id}/dossiers", data={"edition": "submission"})
    assert response.status_code == 400
    assert "Publish the appeal before making a dossier." in response.get_data(as_text=True)
    assert db.session.query(DossierJob).count() == 0


def test_advocate_lists_and_downloads_but_cannot_render(
    client, login, open_appeal, make_user, snapshot
):
    advocate = make_user()
    db.session.add(Membership(appeal_id=open_appeal.id, user=advocate, role=Role.advocate))
    db.session.commit()
    login(advocate)
    page = client.get(f"/appeals/{open_appeal.id}/dossiers").get_data(as_text=True)
    assert snapshot.id in page and "Make the dossier" not in page
    with client.get(f"/appeals/{open_appeal.id}/dossiers/{snapshot.id}.pdf") as download:
        assert download.status_code == 200
    refused = client.post(f"/appeals/{open_appeal.id}/dossiers", data={"edition": "submission"})
    assert refused.status_code == 403


def test_a_download_is_in_the_audit_log_with_who_and_which_edition(
    client, login, open_appeal, make_user, snapshot
):
    advocate = make_user()
    db.session.add(Membership(appeal_id=open_appeal.id, user=advocate, role=Role.advocate))
    db.session.commit()
    login(advocate)
    with client.get(f"/appeals/{open_appeal.id}/dossiers/{snapshot.id}.pdf") as download:
        assert download.status_code == 200
    db.session.rollback()  # the request committed in its own session
    event = db.session.scalars(logged()).one()
    assert (event.action, event.actor_id, event.via) == ("dossier.downloaded", advocate.id, "web")
    assert event.details == {"dossier": snapshot.id, "edition": "submission"}
    missing = client.get(f"/appeals/{open_appeal.id}/dossiers/{'0' * 20}.pdf")
    assert missing.status_code == 404
    assert db.session.scalar(logged_count()) == 1


def test_another_organiser_gets_404_for_a_snapshot_or_job_of_this_appeal(
    client, login, open_appeal, make_appeal, make_user, snapshot
):
    stranger = make_user()
    own = make_appeal(owner=stranger)
    job = DossierJob(appeal_id=open_appeal.id, edition=Edition.public)
    db.session.add(job)
    db.session.commit()
    login(stranger)
    for appeal_id in (open_appeal.id, own.id):
        assert client.get(f"/appeals/{appeal_id}/dossiers/{snapshot.id}.pdf").status_code == 404
        assert client.get(f"/appeals/{appeal_id}/dossiers/jobs/{job.id}").status_code == 404


def test_verify_matches_the_untouched_file_and_not_a_tampered_one(client, snapshot):
    data = snapshot_path(snapshot).read_bytes()
    good = client.post("/verify/", data={"pdf": (io.BytesIO(data), "copy.pdf")})
    page = good.get_data(as_text=True)
    assert good.status_code == 200
    assert "It matches this dossier:" in page
    assert snapshot.appeal.title in page and snapshot.id in page
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 0x01
    bad = client.post("/verify/", data={"pdf": (io.BytesIO(bytes(tampered)), "copy.pdf")})
    assert "It does not match any dossier made on this site." in bad.get_data(as_text=True)
    own = client.post(f"/verify/{snapshot.id}", data={"pdf": (io.BytesIO(data), "copy.pdf")})
    assert "Your copy matches this dossier exactly." in own.get_data(as_text=True)
    other = client.post(
        f"/verify/{snapshot.id}", data={"pdf": (io.BytesIO(bytes(tampered)), "copy.pdf")}
    )
    assert "Your copy does not match this dossier" in other.get_data(as_text=True)


def test_verify_by_fingerprint_or_snapshot_id(client, snapshot):
    for value in (snapshot.file_sha256, snapshot.list_fingerprint.upper(), f" {snapshot.id} "):
        page = client.post("/verify/", data={"fingerprint": value}).get_data(as_text=True)
        assert "It matches this dossier:" in page, value
    page = client.post("/verify/", data={"fingerprint": "0" * 64}).get_data(as_text=True)
    assert "It does not match any dossier" in page


def test_verify_needs_a_file_or_a_fingerprint(client):
    response = client.post("/verify/", data={"fingerprint": ""})
    assert response.status_code == 400
    assert "Choose a PDF file or enter a fingerprint." in response.get_data(as_text=True)
    too_long = client.post("/verify/", data={"fingerprint": "a" * 101})
    assert too_long.status_code == 400
    assert 'value="' + "a" * 101 + '"' in too_long.get_data(as_text=True)


def test_verify_refuses_a_file_over_the_limit(app, client):
    # Small sizes: the test client keeps a body under 500 KB in memory (no temporary file).
    app.config["VERIFY_MAX_BYTES"] = 100 * 1024
    big = io.BytesIO(b"%PDF-1.7\n" + b"0" * (100 * 1024 + 10))
    response = client.post("/verify/", data={"pdf": (big, "huge.pdf")})
    assert response.status_code == 413
    assert "The file is larger than 0.1 MB" in response.get_data(as_text=True)
    assert '<form method="post" enctype="multipart/form-data"' in response.get_data(as_text=True)


def test_verification_pages_show_no_private_data(client, snapshot, open_appeal):
    pages = [
        client.get(f"/verify/{snapshot.id}").get_data(as_text=True),
        client.post("/verify/", data={"fingerprint": snapshot.id}).get_data(as_text=True),
    ]
    for page in pages:
        assert open_appeal.title in page
        for private in ("ул. Секретная", "secret@example.org", "Зарема", "ул. Мира"):
            assert private not in page
    assert client.get("/verify/ffffffffffffffffffff").status_code == 404


def test_verify_in_russian(client, snapshot):
    page = client.get(f"/verify/{snapshot.id}", headers={"Accept-Language": "ru"})
    assert "Это досье создано на этом сайте." in page.get_data(as_text=True)
    # The appeal's zone as the desk names it, not its IANA name.
    assert "(Москва (UTC+03:00))" in page.get_data(as_text=True)
    assert "Europe/Moscow" not in page.get_data(as_text=True)


def test_verify_form_has_csrf_when_enabled(app, client, snapshot):
    app.config["WTF_CSRF_ENABLED"] = True
    for path in ("/verify/", f"/verify/{snapshot.id}"):
        data = {"fingerprint": snapshot.id, "pdf": (io.BytesIO(b"%PDF-1.7"), "copy.pdf")}
        response = client.post(path, data=data)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "It matches" not in page and "Your copy" not in page
        assert "The form had expired or came from elsewhere. Please try again." in page


def test_verify_takes_a_copy_larger_than_other_forms_allow(app, client, snapshot):
    # The site-wide limit applies to every other form; the check of the CSRF token must not
    # read this upload under it (it did, and refused every real dossier).
    app.config.update(
        WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=20 * 1024, VERIFY_MAX_BYTES=400 * 1024
    )
    data = snapshot_path(snapshot).read_bytes()
    assert len(data) > 20 * 1024
    for path in ("/verify/", f"/verify/{snapshot.id}"):
        page = client.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            path, data={"csrf_token": token, "pdf": (io.BytesIO(data), "copy.pdf")}
        )
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert "It matches this dossier:" in page or "Your copy matches" in page


def test_signed_dossier_validates_and_still_verifies(
    client, login, open_appeal, owner, app, tmp_path, runner, make_signature
):
    app.config["DOSSIER_SIGNING_CERT"] = str(tmp_path / "signing.p12")
    assert runner.invoke(args=["dossiers", "make-cert"]).exit_code == 0
    make_signature(open_appeal)
    login(owner)
    form = client.get(f"/appeals/{open_appeal.id}/dossiers").get_data(as_text=True)
    assert "Sign the PDF digitally" in form
    client.post(f"/appeals/{open_appeal.id}/dossiers", data={"edition": "submission", "sign": "y"})
    job = db.session.scalars(db.select(DossierJob)).one()
    assert job.status is JobStatus.done, job.error
    assert job.snapshot.signed
    data = snapshot_path(job.snapshot).read_bytes()
    _key, certificate, _chain = pkcs12.load_key_and_certificates(
        (tmp_path / "signing.p12").read_bytes(), None
    )
    trust = x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=[trust], allow_fetching=False)
    )
    assert status.intact and status.valid and status.bottom_line
    assert "Страница 1 из" in page_texts(data)[0]
    page = client.post("/verify/", data={"pdf": (io.BytesIO(data), "signed.pdf")})
    assert "It matches this dossier:" in page.get_data(as_text=True)


def test_signing_is_not_offered_without_a_certificate(
    client, login, open_appeal, owner, app, tmp_path
):
    app.config["DOSSIER_SIGNING_CERT"] = None
    app.instance_path = str(tmp_path)  # no instance/dossier-signing.p12 there
    login(owner)
    page = client.get(f"/appeals/{open_appeal.id}/dossiers").get_data(as_text=True)
    assert "Sign the PDF digitally" not in page


def test_verify_names_the_published_title_not_a_draft(client, snapshot, open_appeal):
    published = open_appeal.title
    open_appeal.title = "Черновое название"  # edited, not published
    db.session.commit()
    for page in (
        client.get(f"/verify/{snapshot.id}").get_data(as_text=True),
        client.post("/verify/", data={"fingerprint": snapshot.id}).get_data(as_text=True),
    ):
        assert published in page and "Черновое" not in page


def test_a_snapshot_is_dated_by_its_appeals_clock_on_the_file_and_the_verify_pages(
    client, login, snapshot, open_appeal, owner
):
    from datetime import UTC, datetime

    snapshot.created_at = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # 01:30 in Moscow
    db.session.commit()
    login(owner)
    with client.get(f"/appeals/{open_appeal.id}/dossiers/{snapshot.id}.pdf") as download:
        assert f"-2026-12-05-{snapshot.id[:8]}.pdf" in download.headers["Content-Disposition"]
    for page in (
        client.get(f"/verify/{snapshot.id}").get_data(as_text=True),
        client.post("/verify/", data={"fingerprint": snapshot.id}).get_data(as_text=True),
    ):
        assert "Dec 5, 2026, 1:30:00" in page and "(Moscow (UTC+03:00))" in page
