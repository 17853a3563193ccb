"""Handing a submission in: a dossier that holds a signer who withdrew after it was made is not
recorded as sent; a new dossier chosen for the submission is."""

from datetime import timedelta

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.signer_links import renew_withdraw_token, withdraw_signature
from campaign.submissions.hand_in import withdrawn_since_snapshot
from tests.submissions.conftest import days_ago
from tests.submissions.test_desk import _form


def _withdraw(signature):
    token = renew_withdraw_token(signature)
    db.session.commit()
    withdraw_signature(token)
    db.session.commit()


def test_a_dossier_holding_a_withdrawn_signer_is_not_recorded_as_sent(
    client, owner_appeal, make_signature, make_submission, make_snapshot
):
    signers = [make_signature(owner_appeal) for _ in range(3)]
    for signer in signers:
        signer.created_at = signer.created_at - timedelta(minutes=5)
    db.session.commit()
    submission = make_submission(owner_appeal, sent_on=None, received_on=None)
    # Withdrawn before the dossier was made: not in it, nothing to say.
    _withdraw(signers[0])
    signers[0].withdrawn_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert withdrawn_since_snapshot(submission) == 0
    _withdraw(signers[1])  # after it: her name is in the dossier
    assert withdrawn_since_snapshot(submission) == 1
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}"
    page = client.get(url).get_data(as_text=True)
    assert "1 signer withdrew after this dossier was made" in page
    assert "Record as sent today" not in page
    refused = client.post(f"{url}/sent", follow_redirects=True).get_data(as_text=True)
    assert "1 signer withdrew after this dossier was made" in refused
    db.session.refresh(submission)
    assert submission.sent_on is None
    ru = client.get(url, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "1 подписавший отозвал подпись после того, как это досье было сделано" in ru
    # A new dossier, made after the withdrawal, chosen in the submission's form.
    newer = make_snapshot(owner_appeal)
    chosen = client.post(url, data=_form(newer.id, sent_on="", received_on=""))
    assert chosen.status_code == 302
    db.session.refresh(submission)
    assert submission.snapshot_id == newer.id
    assert withdrawn_since_snapshot(submission) == 0
    assert "Record as sent today" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/sent")
    db.session.refresh(submission)
    assert submission.sent_on == days_ago(owner_appeal, 0)


def test_a_signer_who_signed_after_the_dossier_and_withdrew_was_never_in_it(
    owner_appeal, make_signature, make_submission
):
    submission = make_submission(owner_appeal, sent_on=None, received_on=None)
    later = make_signature(owner_appeal)
    later.created_at = utcnow() + timedelta(seconds=1)
    db.session.commit()
    _withdraw(later)
    assert withdrawn_since_snapshot(submission) == 0


def test_the_dossiers_tab_says_who_withdrew_since_each_dossier(
    client, owner_appeal, make_signature, make_snapshot
):
    signers = [make_signature(owner_appeal) for _ in range(2)]
    make_snapshot(owner_appeal)
    _withdraw(signers[0])
    make_snapshot(owner_appeal)  # made after the withdrawal: nothing to say of it
    page = client.get(f"/appeals/{owner_appeal.id}/dossiers").get_data(as_text=True)
    assert page.count("withdrew since") == 1 and "1 withdrew since" in page
    ru = client.get(f"/appeals/{owner_appeal.id}/dossiers", headers={"Accept-Language": "ru"})
    assert "из них 1 отозвал подпись позже" in ru.get_data(as_text=True)
