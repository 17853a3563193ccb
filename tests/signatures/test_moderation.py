"""Moderation: flag, reject with a reason, restore; counts follow; stale pages are refused."""

import pytest

from campaign.appeals.operations import region_counts, signature_counts
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.link_tokens import new_token
from campaign.signatures.models import SignatureStatus
from campaign.signatures.moderation import (
    NotModeratable,
    ReasonRequired,
    SignatureChanged,
    flag_signature,
    reject_signature,
    restore_signature,
)
from campaign.signatures.operations import public_signatures
from campaign.signatures.signer_links import withdraw_signature
from tests.audit_log import logged


@pytest.fixture
def appeal(make_published_appeal):
    return make_published_appeal(language="ru", country="RU")


def count(appeal):
    db.session.expire_all()
    return signature_counts([appeal.id])[appeal.id]


def test_each_step_moves_the_count_and_the_public_list_and_is_audited(
    appeal, make_signature, make_user
):
    editor = make_user()
    kept, other = make_signature(appeal), make_signature(appeal, region="RU-DA")
    assert count(appeal) == 2

    flag_signature(other, seen_revision=0, actor_id=editor.id, reason="check the region")
    db.session.commit()
    assert other.status is SignatureStatus.flagged
    assert count(appeal) == 1
    assert region_counts(appeal.id) == [("RU-CE", 1)]
    assert [s.id for s in public_signatures(appeal.id, 10)] == [kept.id]

    reject_signature(
        other, seen_revision=1, actor_id=editor.id, reason="same person", duplicate_of=kept
    )
    db.session.commit()
    assert (other.status, other.duplicate_of_id, other.moderation_reason) == (
        SignatureStatus.rejected,
        kept.id,
        "same person",
    )
    assert count(appeal) == 1

    restore_signature(other, seen_revision=2, actor_id=editor.id)
    db.session.commit()
    assert other.status is SignatureStatus.valid
    assert (other.duplicate_of_id, other.moderation_reason, other.revision) == (None, "", 3)
    assert count(appeal) == 2
    assert sorted(region_counts(appeal.id)) == [("RU-CE", 1), ("RU-DA", 1)]

    events = db.session.scalars(logged().order_by(AuditEvent.id)).all()
    assert [(e.action, e.subject_id, e.actor_id) for e in events] == [
        ("signature.flagged", other.id, editor.id),
        ("signature.rejected", other.id, editor.id),
        ("signature.restored", other.id, editor.id),
    ]
    assert events[1].details == {"duplicate_of": kept.id}
    # The reason is on the signature, never in the log.
    assert all("same person" not in str(e.details) for e in events)


def test_a_change_from_a_stale_page_is_refused_and_nothing_moves(appeal, make_signature):
    signature = make_signature(appeal)
    flag_signature(signature, seen_revision=0, actor_id=None)
    db.session.commit()
    # A second editor's page showed revision 0: her rejection would undo the flag unseen.
    with pytest.raises(SignatureChanged):
        reject_signature(signature, seen_revision=0, actor_id=None, reason="spam")
    db.session.rollback()
    db.session.expire_all()
    assert (signature.status, signature.revision) == (SignatureStatus.flagged, 1)
    assert count(appeal) == 0


def test_a_rejection_needs_a_reason(appeal, make_signature):
    signature = make_signature(appeal)
    with pytest.raises(ReasonRequired):
        reject_signature(signature, seen_revision=0, actor_id=None, reason="  ")
    db.session.rollback()
    assert count(appeal) == 1


def test_a_withdrawn_or_unmoved_signature_cannot_take_the_step(appeal, make_signature):
    signature = make_signature(appeal)
    with pytest.raises(NotModeratable):
        restore_signature(signature, seen_revision=0, actor_id=None)
    db.session.rollback()

    withdrawn = make_signature(appeal)
    token, withdrawn.withdraw_token_hash = new_token()
    db.session.commit()
    withdraw_signature(token)
    db.session.commit()
    for step in (
        lambda: flag_signature(withdrawn, seen_revision=0, actor_id=None),
        lambda: reject_signature(withdrawn, seen_revision=0, actor_id=None, reason="x"),
    ):
        with pytest.raises(NotModeratable) as refused:
            step()
        assert refused.value.status is SignatureStatus.withdrawn
        db.session.rollback()


def test_withdrawing_a_rejected_signature_erases_the_reason_and_keeps_the_count(
    appeal, make_signature
):
    signature = make_signature(appeal)
    token, signature.withdraw_token_hash = new_token()
    db.session.commit()
    reject_signature(signature, seen_revision=0, actor_id=None, reason="Мадина signed twice")
    db.session.commit()
    assert count(appeal) == 0
    withdraw_signature(token)
    db.session.commit()
    assert (signature.status, signature.moderation_reason) == (SignatureStatus.withdrawn, "")
    assert count(appeal) == 0


def test_a_duplicate_is_of_another_signature_of_the_same_appeal(
    appeal, make_signature, make_published_appeal
):
    signature = make_signature(appeal)
    elsewhere = make_signature(make_published_appeal())
    for other in (signature, elsewhere):
        with pytest.raises(ValueError):
            reject_signature(
                signature, seen_revision=0, actor_id=None, reason="dup", duplicate_of=other
            )
        db.session.rollback()
