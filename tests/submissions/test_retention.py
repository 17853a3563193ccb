"""The erasure of private details, and a signer's withdrawal, delete the files of the dossiers
that hold them and were never handed in; what was handed in, the public editions and every
fingerprint stay."""

import re
from datetime import timedelta

from sqlalchemy import select

from campaign.appeals.models import AppealStatus
from campaign.audit.models import AuditEvent
from campaign.clock import utcnow
from campaign.dossiers.models import Edition
from campaign.dossiers.operations import find_snapshots, snapshot_path
from campaign.extensions import db
from campaign.signatures.models import SignatureStatus
from campaign.signatures.retention import erase_private_data, private_details
from campaign.signatures.signer_links import renew_withdraw_token, withdraw_signature
from tests import private_values as planted


def with_file(snapshot):
    path = snapshot_path(snapshot)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.7 " + snapshot.id.encode())
    return snapshot


def ended(appeal):
    appeal.status = AppealStatus.closed
    appeal.closed_at = utcnow()
    db.session.commit()


def dossiers(appeal, make_snapshot, make_submission):
    """A signer who gave private details; two dossiers never handed in that hold them, one
    handed in, one public edition."""
    planted.ask_everything(appeal)
    planted.plant(appeal, 1)
    kept_back = with_file(make_snapshot(appeal))
    sheets = with_file(make_snapshot(appeal, Edition.sheets))
    handed_in = with_file(make_submission(appeal).snapshot)
    public = with_file(make_snapshot(appeal, Edition.public))
    return kept_back, sheets, handed_in, public


def test_the_files_of_dossiers_never_handed_in_go_once_the_erasure_commits(
    owner_appeal, make_snapshot, make_submission
):
    kept_back, sheets, handed_in, public = dossiers(owner_appeal, make_snapshot, make_submission)
    ended(owner_appeal)
    assert private_details(owner_appeal.id).dossiers == 2

    erased = erase_private_data(owner_appeal, reason="owner")
    assert erased.dossiers == 2
    assert snapshot_path(kept_back).exists()  # nothing is deleted before the commit
    db.session.commit()
    assert [snapshot_path(s).exists() for s in (kept_back, sheets, handed_in, public)] == [
        False,
        False,
        True,
        True,
    ]
    assert kept_back.file_erased_at is not None and sheets.file_erased_at is not None
    assert handed_in.file_erased_at is None and public.file_erased_at is None
    assert find_snapshots(kept_back.file_sha256) == [kept_back]  # a copy can still be checked
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "appeal.private_data_erased")
    ).one()
    assert event.details["dossiers"] == 2
    assert private_details(owner_appeal.id).dossiers == 0
    assert not erase_private_data(owner_appeal, reason="owner")


def test_a_dossier_made_after_the_erasure_stays(runner, owner_appeal, make_snapshot):
    planted.ask_everything(owner_appeal)
    planted.plant(owner_appeal, 1)
    ended(owner_appeal)
    erase_private_data(owner_appeal, reason="owner")
    db.session.commit()
    afterwards = with_file(make_snapshot(owner_appeal))  # no private detail left to hold
    assert private_details(owner_appeal.id).dossiers == 0
    owner_appeal.closed_at = utcnow().replace(year=utcnow().year - 2)
    db.session.commit()
    result = runner.invoke(args=["signatures", "purge-private"])  # the daily run
    assert "Private details erased in 0 appeal(s)" in result.output
    assert snapshot_path(afterwards).exists()
    assert afterwards.file_erased_at is None


def test_an_erasure_rolled_back_keeps_the_files(owner_appeal, make_snapshot):
    planted.ask_everything(owner_appeal)
    planted.plant(owner_appeal, 1)
    kept_back = with_file(make_snapshot(owner_appeal))
    ended(owner_appeal)
    assert erase_private_data(owner_appeal, reason="owner").dossiers == 1
    db.session.rollback()
    db.session.commit()
    assert snapshot_path(kept_back).exists()
    db.session.refresh(kept_back)
    assert kept_back.file_erased_at is None


def test_the_desk_says_which_files_went_and_why(
    client, owner_appeal, make_snapshot, make_submission
):
    kept_back, _sheets, handed_in, _public = dossiers(owner_appeal, make_snapshot, make_submission)
    ended(owner_appeal)
    page = re.sub(
        r"\s+", " ", client.get(f"/appeals/{owner_appeal.id}/private-data").get_data(as_text=True)
    )
    files = "Files of dossiers with private details never recorded as handed in"
    assert f"<dt>{files}</dt><dd>2</dd>" in page
    assert "the dossiers recorded as handed in (they are what the authority got)" in page

    done = client.post(f"/appeals/{owner_appeal.id}/private-data", data={"confirm": "y"})
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "The files of 2 dossiers never handed in were deleted." in after

    tab = client.get(f"/appeals/{owner_appeal.id}/dossiers").get_data(as_text=True)
    assert tab.count("it held signatories’ details that were erased") == 2
    assert f"/dossiers/{kept_back.id}.pdf" not in tab
    assert f"/dossiers/{handed_in.id}.pdf" in tab
    download = client.get(f"/appeals/{owner_appeal.id}/dossiers/{kept_back.id}.pdf")
    assert download.status_code == 302
    assert download.headers["Location"].endswith(f"/appeals/{owner_appeal.id}/dossiers")
    explained = client.get(download.headers["Location"]).get_data(as_text=True)
    assert "This dossier&#39;s file was deleted: it held signatories&#39; details" in explained
    kept = client.get(f"/appeals/{owner_appeal.id}/dossiers/{handed_in.id}.pdf")
    assert kept.status_code == 200
    kept.close()


def test_a_withdrawal_takes_the_files_of_dossiers_made_since_she_signed(
    owner_appeal, make_signature, make_snapshot, make_submission
):
    leaving = make_signature(owner_appeal)
    leaving.created_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    before = with_file(make_snapshot(owner_appeal))
    before.created_at = utcnow() - timedelta(hours=2)  # made before she signed: not in it
    db.session.commit()
    since, sheets, handed_in, public = dossiers(owner_appeal, make_snapshot, make_submission)

    token = renew_withdraw_token(leaving)
    db.session.commit()
    withdraw_signature(token)
    assert snapshot_path(since).exists()  # nothing is deleted before the commit
    db.session.commit()
    gone = [s for s in (before, since, sheets, handed_in, public) if not snapshot_path(s).exists()]
    assert gone == [since, sheets, public]  # the public edition has her name
    assert since.file_erased_at is not None and before.file_erased_at is None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "dossier.files_erased")
    ).one()
    assert (event.actor_id, event.details) == (None, {"dossiers": 3, "reason": "withdrawal"})


def test_an_unconfirmed_signer_withdrawing_was_in_no_dossier(
    owner_appeal, make_signature, make_snapshot
):
    leaving = make_signature(owner_appeal)
    leaving.status = SignatureStatus.pending
    leaving.created_at = utcnow() - timedelta(hours=1)
    made = with_file(make_snapshot(owner_appeal))
    token = renew_withdraw_token(leaving)
    db.session.commit()
    withdraw_signature(token)
    db.session.commit()
    assert snapshot_path(made).exists() and made.file_erased_at is None


def test_a_withdrawal_with_no_dossier_since_records_nothing(owner_appeal, make_signature):
    leaving = make_signature(owner_appeal)
    token = renew_withdraw_token(leaving)
    db.session.commit()
    withdraw_signature(token)
    db.session.commit()
    assert (
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "dossier.files_erased")
        ).all()
        == []
    )


def test_a_withdrawal_is_the_signers_in_the_log_whoever_is_logged_in(
    client, login, owner_appeal, make_signature, make_snapshot
):
    leaving = make_signature(owner_appeal)
    leaving.created_at = utcnow() - timedelta(hours=1)
    with_file(make_snapshot(owner_appeal))
    token = renew_withdraw_token(leaving)
    db.session.commit()
    owner = owner_appeal.memberships[0].user
    login(owner)  # an organiser trying her own appeal's link in her browser
    assert client.post(f"/a/{owner_appeal.slug}/withdraw/{token}").status_code == 200
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "dossier.files_erased")
    ).one()
    assert (event.actor_id, event.via) == (None, "signer")
    page = client.get(f"/appeals/{owner_appeal.id}/audit").get_data(as_text=True)
    row = re.search(r"<tr>(?:(?!</tr>).)*never handed in deleted(?:(?!</tr>).)*</tr>", page, re.S)
    assert row and "a signer, by her own link" in row.group(0) and owner.name not in row.group(0)
