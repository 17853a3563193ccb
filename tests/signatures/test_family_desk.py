"""Families on the desk: each signer's own answers shown, merge, split, recompute keeps them."""

import pytest
from sqlalchemy import select

from campaign.accounts.models import Role
from campaign.extensions import db
from campaign.signatures.families import recompute_families
from campaign.signatures.family_desk import (
    EveryoneChosen,
    FamilyChanged,
    NobodyChosen,
    NotThisAppeals,
    SameFamily,
    TooFewFamilies,
    family_page,
    merge_families,
    split_family,
)
from campaign.signatures.models import PersonConcerned, SignatureStatus
from tests.audit_log import logged
from tests.conftest import PASSWORD
from tests.test_security import CSRF_INPUT


@pytest.fixture
def editor(make_user):
    return make_user()


@pytest.fixture
def appeal(make_published_appeal, editor):
    return make_published_appeal(language="ru", country="RU", members={editor: Role.editor})


def family(signature):
    db.session.refresh(signature)
    return signature.person_concerned_id


def test_a_family_shows_what_most_said_and_marks_who_said_otherwise(appeal, make_signature):
    mother = make_signature(
        appeal, relative_name="Ислам Налоев", relative_location="Багдад", children=2
    )
    wife = make_signature(appeal, relative_name="Islam Naloyev", relative_location="", children=2)
    sister = make_signature(
        appeal, relative_name="Ислам Налоев", relative_location="Багдад", children=3
    )
    assert family(mother) == family(wife) == family(sister)
    [view] = family_page(appeal.id).families
    assert (view.relative, view.place, view.children) == ("Ислам Налоев", "Багдад", 2)
    differing = {m.signature.id: (m.place_differs, m.children_differ) for m in view.members}
    assert differing == {
        mother.id: (False, False),
        wife.id: (False, False),
        sister.id: (False, True),
    }
    assert view.differs
    # Her answer is kept as she gave it.
    assert sister.children == 3


def test_the_page_lists_families_with_counted_signers_and_finds_any_script(appeal, make_signature):
    make_signature(appeal, relative_name="Ислам Налоев")
    rejected = make_signature(appeal, relative_name="Ахмед Исаев")
    rejected.status = SignatureStatus.rejected
    db.session.commit()
    assert [f.relative for f in family_page(appeal.id).families] == ["Ислам Налоев"]
    assert [f.relative for f in family_page(appeal.id, query="naloev").families] == ["Ислам Налоев"]
    assert family_page(appeal.id, query="Исаев").families == []


def test_merging_two_families_fixes_them_against_a_recompute(appeal, make_signature, editor):
    islam = make_signature(appeal, relative_name="Ислам", relative_location="Эрбиль")
    islam_full = make_signature(appeal, relative_name="Ислам Налоев", relative_location="Эрбиль")
    assert family(islam) != family(islam_full)
    kept = merge_families(appeal.id, [family(islam_full), family(islam)], actor_id=editor.id)
    db.session.commit()
    assert family(islam) == family(islam_full) == kept == min(family(islam), kept)
    assert islam.person_concerned_fixed and islam_full.person_concerned_fixed
    recompute_families(appeal.id)
    db.session.commit()
    assert family(islam) == family(islam_full) == kept
    [event] = db.session.scalars(logged()).all()
    assert (event.action, event.subject_type, event.subject_id, event.actor_id) == (
        "families.merged",
        "person_concerned",
        kept,
        editor.id,
    )
    assert event.details["signers"] == 2 and len(event.details["merged"]) == 1
    # A new signer of either name joins the merged family.
    later = make_signature(appeal, relative_name="Ислам", relative_location="Эрбиль")
    assert family(later) == kept


def test_a_merge_with_itself_too_few_or_another_appeals_family_is_refused(
    appeal, make_signature, make_published_appeal
):
    one = family(make_signature(appeal, relative_name="Ислам Налоев"))
    other = family(make_signature(make_published_appeal(), relative_name="Ахмед"))
    with pytest.raises(SameFamily):
        merge_families(appeal.id, [one, one], actor_id=None)
    with pytest.raises(TooFewFamilies):
        merge_families(appeal.id, [one], actor_id=None)
    with pytest.raises(NotThisAppeals):
        merge_families(appeal.id, [one, other], actor_id=None)
    with pytest.raises(FamilyChanged):
        merge_families(appeal.id, [one, 999_999], actor_id=None)
    db.session.rollback()
    assert len(db.session.scalars(select(PersonConcerned)).all()) == 2


def test_splitting_moves_the_chosen_signers_and_a_recompute_keeps_it(
    appeal, make_signature, editor
):
    first = make_signature(appeal, relative_name="Султан", relative_location="Эрбиль")
    second = make_signature(appeal, relative_name="Султан", relative_location="Эрбиль")
    third = make_signature(appeal, relative_name="Султан", relative_location="")
    was = family(first)
    assert family(second) == family(third) == was
    new = split_family(appeal.id, was, [third.id], actor_id=editor.id)
    db.session.commit()
    assert (family(first), family(second), family(third)) == (was, was, new)
    recompute_families(appeal.id)
    db.session.commit()
    assert (family(first), family(second), family(third)) == (was, was, new)
    event = db.session.scalars(logged()).one()
    assert (event.action, event.subject_id, event.details) == (
        "families.split",
        was,
        {"new": new, "signers": 1},
    )


def test_splitting_off_everyone_or_no_one_or_a_stranger_is_refused(appeal, make_signature):
    first = make_signature(appeal, relative_name="Султан", relative_location="Эрбиль")
    second = make_signature(appeal, relative_name="Султан", relative_location="Эрбиль")
    stranger = make_signature(appeal, relative_name="Ахмед")
    was = family(first)
    with pytest.raises(NobodyChosen):
        split_family(appeal.id, was, [], actor_id=None)
    with pytest.raises(EveryoneChosen):
        split_family(appeal.id, was, [first.id, second.id], actor_id=None)
    with pytest.raises(FamilyChanged):
        split_family(appeal.id, was, [stranger.id], actor_id=None)
    db.session.rollback()
    assert family(first) == family(second) == was
    assert len(db.session.scalars(select(PersonConcerned)).all()) == 2


# The pages.


def post_merge(client, appeal, ids, **extra):
    data = {"family": [str(i) for i in ids], "merge": "1", **extra}
    return client.post(f"/appeals/{appeal.id}/families/merge", data=data)


def test_the_families_page_shows_each_signers_answers(
    client, login, appeal, make_signature, editor
):
    make_signature(appeal, surname="Мать", relative_name="Ислам Налоев", children=2)
    make_signature(appeal, surname="Сестра", relative_name="Islam Naloev", children=3)
    make_signature(
        appeal, relative_name="Султан", region="RU-DA", relative_location="Эрбиль", children=None
    )
    login(editor)
    html = client.get(f"/appeals/{appeal.id}/families").get_data(as_text=True)
    assert "2 families." in html
    assert "Мать" in html and "Сестра" in html and "Islam Naloev" in html
    assert html.count('class="num differs"') == 1  # the sister's three children
    assert "Эрбиль" in html and "Dagestan" in html
    assert "@example.org" not in html


def test_merging_on_the_page(client, login, appeal, make_signature, editor):
    a = make_signature(appeal, relative_name="Ислам", relative_location="Эрбиль")
    b = make_signature(appeal, relative_name="Ислам Налоев", relative_location="Эрбиль")
    login(editor)
    response = post_merge(client, appeal, [family(a), family(b)])
    assert response.status_code == 302
    assert family(a) == family(b)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The families are merged into one." in html and "1 family." in html


def test_merging_a_family_with_itself_says_why_and_keeps_the_ticks(
    client, login, appeal, make_signature, editor
):
    one = family(make_signature(appeal, relative_name="Ислам Налоев"))
    make_signature(appeal, relative_name="Ахмед Исаев")
    login(editor)
    response = post_merge(client, appeal, [one, one])
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "A family cannot be merged with itself" in html
    assert f'value="{one}" id="merge-{one}" checked' in html
    response = post_merge(client, appeal, [one])
    assert "Choose at least two families to merge." in response.get_data(as_text=True)


def test_merging_with_another_appeals_family_is_not_found(
    client, login, appeal, make_signature, editor, make_published_appeal
):
    one = family(make_signature(appeal, relative_name="Ислам Налоев"))
    foreign = family(make_signature(make_published_appeal(), relative_name="Ислам Налоев"))
    login(editor)
    assert post_merge(client, appeal, [one, foreign]).status_code == 404
    assert len(db.session.scalars(select(PersonConcerned)).all()) == 2


def test_splitting_on_the_page(client, login, appeal, make_signature, editor):
    first = make_signature(appeal, surname="Первая", relative_name="Султан")
    second = make_signature(appeal, surname="Вторая", relative_name="Султан")
    was = family(first)
    login(editor)
    path = f"/appeals/{appeal.id}/families/{was}/split"
    page = client.get(path).get_data(as_text=True)
    assert "Первая" in page and "Вторая" in page
    # Nobody, then everyone: refused, the ticks kept.
    response = client.post(path, data={"split": "1"})
    assert response.status_code == 400
    assert "Tick the signers who leave the family." in response.get_data(as_text=True)
    response = client.post(path, data={"signature": [first.id, second.id], "split": "1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "At least one signer stays in the family" in html
    assert f'value="{first.id}" id="leaves-{first.id}" checked' in html
    response = client.post(path, data={"signature": [second.id], "split": "1"})
    assert response.status_code == 302
    assert family(first) == was and family(second) != was


def test_another_appeals_family_cannot_be_split_here(
    client, login, appeal, editor, make_signature, make_published_appeal
):
    foreign = family(make_signature(make_published_appeal(), relative_name="Султан"))
    login(editor)
    assert client.get(f"/appeals/{appeal.id}/families/{foreign}/split").status_code == 404
    response = client.post(f"/appeals/{appeal.id}/families/{foreign}/split", data={"split": "1"})
    assert response.status_code == 404


def test_recomputing_on_the_page_is_audited(client, login, appeal, make_signature, editor):
    a = make_signature(appeal, relative_name="Ислам Налоев")
    a.person_concerned_id = None
    db.session.commit()
    login(editor)
    html = client.get(f"/appeals/{appeal.id}/families").get_data(as_text=True)
    assert "1 signature that names a relative is in no family yet" in html
    response = client.post(f"/appeals/{appeal.id}/families/recompute", data={"recompute": "1"})
    assert response.status_code == 302
    assert family(a) is not None
    event = db.session.scalars(logged()).one()
    assert (event.action, event.actor_id, event.details) == (
        "families.recomputed",
        editor.id,
        {"families": 1, "moved": 1},
    )


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_merge_needs_the_pages_token(self, client, appeal, make_signature, editor):
        a = family(make_signature(appeal, relative_name="Ислам", relative_location="Эрбиль"))
        b = family(make_signature(appeal, relative_name="Ислам Налоев", relative_location="Эрбиль"))
        page = client.get("/accounts/login").get_data(as_text=True)
        client.post(
            "/accounts/login",
            data={
                "email": editor.email,
                "password": PASSWORD,
                "csrf_token": CSRF_INPUT.findall(page)[-1],
            },
        )
        assert post_merge(client, appeal, [a, b]).status_code == 400
        html = client.get(f"/appeals/{appeal.id}/families").get_data(as_text=True)
        token = CSRF_INPUT.findall(html)[-1]
        assert post_merge(client, appeal, [a, b], csrf_token=token).status_code == 302
        assert len(db.session.scalars(select(PersonConcerned)).all()) == 1
