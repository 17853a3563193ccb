"""Fixtures for submissions: a snapshot row without rendering, and a submission."""

import hashlib
import itertools
from datetime import date, timedelta

import pytest

from campaign.dossiers.models import DossierSnapshot, Edition
from campaign.extensions import db
from campaign.submissions import mailings
from campaign.submissions.mailings import MailingIncomplete, send_mailing
from campaign.submissions.models import Channel
from campaign.submissions.operations import SubmissionData, record_submission
from campaign.time_zones import today_in


@pytest.fixture
def app_config(tmp_path):
    return {"SUBMISSION_SCANS_DIR": str(tmp_path / "scans"), "SUBMISSION_MAIL_PER_SECOND": 1000}


def snapshot_row(appeal, n: int, edition=Edition.submission) -> DossierSnapshot:
    """Record a snapshot of an appeal (no PDF is rendered), numbered n."""
    snapshot = DossierSnapshot(
        id=f"{n:04d}" + "a" * 16,
        appeal_id=appeal.id,
        edition=edition,
        versions=[1],
        signature_count=3,
        list_fingerprint=hashlib.sha256(f"list{n}".encode()).hexdigest(),
        file_sha256=hashlib.sha256(f"file{n}".encode()).hexdigest(),
        file_size=1000,
        pages=3,
        filename=f"{n}.pdf",
    )
    db.session.add(snapshot)
    db.session.commit()
    return snapshot


@pytest.fixture
def owner_appeal(make_published_appeal, make_user, login):
    """A published appeal, its owner logged in."""
    owner = make_user()
    appeal = make_published_appeal(owner=owner)
    login(owner)
    return appeal


@pytest.fixture
def make_snapshot(app):
    """A snapshot row of an appeal (no PDF is rendered)."""
    counter = itertools.count(1)
    return lambda appeal, edition=Edition.submission: snapshot_row(appeal, next(counter), edition)


@pytest.fixture
def make_submission(make_snapshot):
    """Record a submission of a new snapshot; keywords override SubmissionData fields."""

    def make(appeal, **overrides):
        snapshot = make_snapshot(appeal)
        today = today_in(appeal.time_zone)
        values = {
            "snapshot_id": snapshot.id,
            "addressee": "The President, Office of the President",
            "channel": Channel.post,
            "sent_on": today - timedelta(days=10),
            "received_on": today - timedelta(days=8),
        }
        values.update(overrides)
        submission = record_submission(appeal, SubmissionData(**values), appeal.memberships[0].user)
        db.session.commit()
        return submission

    return make


def days_ago(appeal, days: int) -> date:
    """A date in the appeal's time zone."""
    return today_in(appeal.time_zone) - timedelta(days=days)


def fail_every_try(mailing_id: int) -> None:
    """Run a mailing as its job and the job's retries would, with a mail server that refuses
    every message: it ends failed. The mail server is back afterwards."""

    def refused(*_args, **_kwargs):
        raise OSError("refused")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mailings, "send_mail", refused)
        for _try in range(mailings.MAX_ATTEMPTS - 1):
            with pytest.raises(MailingIncomplete):
                send_mailing(mailing_id)
        send_mailing(mailing_id)
