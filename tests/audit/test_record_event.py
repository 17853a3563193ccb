"""Audit events: recorded with the change they describe, and never with free text."""

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditEvent
from campaign.audit.operations import UnknownAction, record_event
from campaign.extensions import db


def test_an_event_is_committed_with_the_change_and_says_who_and_what(make_appeal, make_user):
    appeal = make_appeal()
    user = make_user()
    record_event(appeal.id, "dossier.downloaded", subject=("dossier", 7), actor_id=user.id)
    db.session.commit()
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.appeal_id, event.actor_id, event.via) == (appeal.id, user.id, "cli")
    assert (event.action, event.subject_type, event.subject_id) == (
        "dossier.downloaded",
        "dossier",
        7,
    )
    assert event.created_at is not None


def test_an_event_goes_with_a_change_rolled_back(make_appeal):
    appeal = make_appeal()
    record_event(appeal.id, "signature.flagged", subject=("signature", 1))
    db.session.rollback()
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_an_unknown_action_is_refused(make_appeal):
    appeal = make_appeal()
    with pytest.raises(UnknownAction):
        record_event(appeal.id, "signature.flaged")


@pytest.mark.parametrize(
    "value", ["Мадина Налоева", "madina@example.org ", "Some Text", "x" * 65, {"a": 1}, ["a"]]
)
def test_details_refuse_free_text(make_appeal, value):
    appeal = make_appeal()
    with pytest.raises(ValueError, match="number, a flag or a code"):
        record_event(appeal.id, "signature.rejected", reason=value)


def test_details_take_ids_counts_flags_and_codes(make_appeal):
    appeal = make_appeal()
    record_event(
        appeal.id,
        "signature.rejected",
        duplicate_of=3,
        rows=10,
        dry_run=False,
        format="csv",
        ids=[1, 2],
        missing=None,
    )
    db.session.commit()
    event = db.session.scalars(select(AuditEvent)).one()
    assert event.details == {
        "duplicate_of": 3,
        "rows": 10,
        "dry_run": False,
        "format": "csv",
        "ids": [1, 2],
        "missing": None,
    }
