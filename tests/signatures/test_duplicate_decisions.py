"""Decisions on a candidate pair: keep one and reject the other, or mark them distinct."""

import pytest
from sqlalchemy import select

from campaign.appeals.operations import signature_counts
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.signatures.duplicate_decisions import (
    AlreadyDistinct,
    NotAPair,
    keep_one,
    mark_distinct,
)
from campaign.signatures.duplicates import find_pairs
from campaign.signatures.models import DistinctPair, SignatureStatus
from campaign.signatures.moderation import NotModeratable, SignatureChanged, flag_signature
from tests.audit_log import logged


@pytest.fixture
def pair(make_published_appeal, make_signature):
    appeal = make_published_appeal(language="ru", country="RU")
    kept = make_signature(appeal, surname="Налоева", given_name="Мадина", relative_name="Ислам")
    again = make_signature(appeal, surname="Naloyeva", given_name="Madina", relative_name="Islam")
    return appeal, kept, again


def events():
    rows = db.session.scalars(logged().order_by(AuditEvent.id))
    return [(e.action, e.subject_id, e.details) for e in rows]


def test_keeping_one_rejects_the_other_as_its_duplicate(pair, make_user):
    appeal, kept, again = pair
    editor = make_user()
    keep_one(
        kept, again, seen_kept=0, seen_duplicate=0, actor_id=editor.id, reason="Duplicate of No. 1"
    )
    db.session.commit()
    assert (again.status, again.duplicate_of_id, again.moderation_reason) == (
        SignatureStatus.rejected,
        kept.id,
        "Duplicate of No. 1",
    )
    assert kept.status is SignatureStatus.valid and kept.revision == 0
    assert signature_counts([appeal.id])[appeal.id] == 1
    assert find_pairs(appeal.id) == []
    assert events() == [("signature.rejected", again.id, {"duplicate_of": kept.id})]


def test_keeping_the_later_one_works_the_other_way_round(pair):
    _appeal, first, later = pair
    keep_one(later, first, seen_kept=0, seen_duplicate=0, actor_id=None, reason="dup")
    db.session.commit()
    assert first.status is SignatureStatus.rejected and first.duplicate_of_id == later.id


def test_a_decision_from_a_stale_page_is_refused_and_nothing_moves(pair):
    _appeal, kept, again = pair
    flag_signature(kept, seen_revision=0, actor_id=None)  # meanwhile, in another window
    db.session.commit()
    with pytest.raises(SignatureChanged):
        keep_one(kept, again, seen_kept=0, seen_duplicate=0, actor_id=None, reason="dup")
    db.session.rollback()
    db.session.expire_all()
    assert again.status is SignatureStatus.valid and again.revision == 0
    with pytest.raises(SignatureChanged):
        mark_distinct(kept, again, seen_one=0, seen_other=0, actor_id=None)
    db.session.rollback()
    assert db.session.scalars(select(DistinctPair)).all() == []


def test_opposite_decisions_cannot_both_reject(pair):
    _appeal, kept, again = pair
    keep_one(kept, again, seen_kept=0, seen_duplicate=0, actor_id=None, reason="dup")
    db.session.commit()
    # Another organiser's page showed both at revision 0 and keeps the other one.
    with pytest.raises(SignatureChanged):
        keep_one(again, kept, seen_kept=0, seen_duplicate=0, actor_id=None, reason="dup")
    db.session.rollback()
    db.session.expire_all()
    assert kept.status is SignatureStatus.valid


def test_a_rejected_signature_is_no_longer_a_candidate(pair):
    _appeal, kept, again = pair
    keep_one(kept, again, seen_kept=0, seen_duplicate=0, actor_id=None, reason="dup")
    db.session.commit()
    with pytest.raises(NotModeratable):
        mark_distinct(kept, again, seen_one=0, seen_other=1, actor_id=None)
    db.session.rollback()


def test_marking_distinct_hides_the_pair_for_good_and_is_audited(pair, make_user):
    appeal, kept, again = pair
    editor = make_user()
    mark_distinct(again, kept, seen_one=0, seen_other=0, actor_id=editor.id)
    db.session.commit()
    [marked] = db.session.scalars(select(DistinctPair)).all()
    assert (marked.first_id, marked.second_id, marked.marked_by_id) == (
        kept.id,
        again.id,
        editor.id,
    )
    assert find_pairs(appeal.id) == [] and find_pairs(appeal.id, minimum=0) == []
    assert events() == [("duplicates.marked_distinct", kept.id, {"other": again.id})]
    assert (kept.revision, again.revision) == (0, 0)  # the signatures themselves are unchanged


def test_marking_a_pair_distinct_twice_is_refused(pair):
    _appeal, kept, again = pair
    mark_distinct(kept, again, seen_one=0, seen_other=0, actor_id=None)
    db.session.commit()
    with pytest.raises(AlreadyDistinct):
        mark_distinct(again, kept, seen_one=0, seen_other=0, actor_id=None)
    db.session.rollback()
    assert len(db.session.scalars(select(DistinctPair)).all()) == 1
    assert [action for action, _s, _d in events()] == ["duplicates.marked_distinct"]


def test_a_pair_is_two_signatures_of_one_appeal(pair, make_published_appeal, make_signature):
    _appeal, kept, _again = pair
    elsewhere = make_signature(make_published_appeal())
    for one, other in ((kept, kept), (kept, elsewhere)):
        with pytest.raises(NotAPair):
            mark_distinct(one, other, seen_one=0, seen_other=0, actor_id=None)
        with pytest.raises(NotAPair):
            keep_one(one, other, seen_kept=0, seen_duplicate=0, actor_id=None, reason="x")
        db.session.rollback()
