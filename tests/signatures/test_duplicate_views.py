"""The pairs view and `flask signatures duplicates`: pairs side by side, decisions, no private
values shown."""

import json
import re

import pytest
from sqlalchemy import select

from campaign.accounts.models import Role
from campaign.extensions import db
from campaign.signatures.models import DistinctPair, SignatureStatus
from campaign.signatures.moderation import flag_signature
from tests.conftest import PASSWORD
from tests.test_security import CSRF_INPUT


@pytest.fixture
def editor(make_user):
    return make_user()


@pytest.fixture
def pair(make_published_appeal, make_signature, editor):
    appeal = make_published_appeal(
        language="ru", country="RU", slug="vernite", members={editor: Role.editor}
    )
    first = make_signature(
        appeal,
        surname="Налоева",
        given_name="Мадина",
        relative_name="Ислам Налоев",
        email="madina.private@example.org",
        phone="+79281234567",
    )
    second = make_signature(
        appeal,
        surname="Naloyeva",
        given_name="Madina",
        relative_name="Islam Naloyev",
        email="other.private@example.org",
    )
    make_signature(appeal, surname="Хасанова", given_name="Айша", relative_name="Адам")
    return appeal, first, second


def decide(client, appeal, first, second, button, revisions=(0, 0), **extra):
    data = {
        "first": first.id,
        "second": second.id,
        "first_revision": revisions[0],
        "second_revision": revisions[1],
        "page": "1",
        button: "1",
        **extra,
    }
    return client.post(f"/appeals/{appeal.id}/duplicates", data=data, follow_redirects=True)


def test_the_pairs_view_shows_the_pair_side_by_side_without_private_values(
    client, login, pair, editor
):
    appeal, _first, _second = pair
    login(editor)
    html = client.get(f"/appeals/{appeal.id}/duplicates").get_data(as_text=True)
    assert "Possible duplicates" in html and "1 pair to look at." in html
    assert "Налоева" in html and "Naloyeva" in html and "score 100" in html
    assert "Хасанова" not in html
    assert "Agree: Surname and given name, Patronymic, Region, Relative concerned, Town" in html
    for private in ("madina.private", "other.private", "79281234567"):
        assert private not in html
    assert 'name="first_revision" value="0"' in html


def test_keep_a_reject_b(client, login, pair, editor):
    appeal, first, second = pair
    login(editor)
    html = decide(client, appeal, first, second, "keep_first").get_data(as_text=True)
    assert f"Signature No. {second.id} is rejected as a duplicate of No. {first.id}." in html
    assert "No possible duplicates." in html
    db.session.refresh(second)
    assert second.status is SignatureStatus.rejected and second.duplicate_of_id == first.id
    assert second.moderation_reason == f"Duplicate of signature No. {first.id}, which was kept."
    assert second.moderated_by_id == editor.id


def test_keep_b_reject_a(client, login, pair, editor):
    appeal, first, second = pair
    login(editor)
    decide(client, appeal, first, second, "keep_second")
    db.session.refresh(first)
    assert first.status is SignatureStatus.rejected and first.duplicate_of_id == second.id


def test_marking_distinct_twice_says_so_and_stores_one(client, login, pair, editor):
    appeal, first, second = pair
    login(editor)
    html = decide(client, appeal, first, second, "distinct").get_data(as_text=True)
    assert "Marked as different people" in html and "No possible duplicates." in html
    # The same form again, from a second window.
    html = decide(client, appeal, first, second, "distinct").get_data(as_text=True)
    assert "These two signatures were already marked as different people." in html
    assert len(db.session.scalars(select(DistinctPair)).all()) == 1


def test_a_decision_from_a_stale_page_is_refused(client, login, pair, editor):
    appeal, first, second = pair
    flag_signature(second, seen_revision=0, actor_id=None)
    db.session.commit()
    login(editor)
    html = decide(client, appeal, first, second, "keep_first").get_data(as_text=True)
    assert "Nothing was done: one of the two signatures changed" in html
    db.session.refresh(second)
    assert second.status is SignatureStatus.flagged
    # The page now shows the flagged one at its new revision.
    assert 'name="second_revision" value="1"' in html


def test_signatures_of_another_appeal_are_not_found(
    client, login, pair, editor, make_published_appeal, make_signature
):
    appeal, first, _second = pair
    foreign = make_signature(make_published_appeal(), surname="Налоева", given_name="Мадина")
    login(editor)
    response = decide(client, appeal, first, foreign, "distinct")
    assert response.status_code == 404
    assert db.session.scalars(select(DistinctPair)).all() == []


def test_the_pairs_view_speaks_russian(client, login, pair, editor):
    appeal, _first, _second = pair
    login(editor)
    html = client.get(
        f"/appeals/{appeal.id}/duplicates", headers={"Accept-Language": "ru"}
    ).get_data(as_text=True)
    assert "Возможные повторы" in html
    assert "Possible duplicates" not in html


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_decision_needs_the_pages_token(self, client, pair, editor):
        appeal, first, second = pair
        page = client.get("/accounts/login").get_data(as_text=True)
        token = CSRF_INPUT.findall(page)[-1]
        client.post(
            "/accounts/login",
            data={"email": editor.email, "password": PASSWORD, "csrf_token": token},
        )
        response = decide(client, appeal, first, second, "distinct")
        assert response.status_code == 400
        assert db.session.scalars(select(DistinctPair)).all() == []
        html = client.get(f"/appeals/{appeal.id}/duplicates").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html.split("pair-actions")[1])[1]
        response = decide(client, appeal, first, second, "distinct", csrf_token=token)
        assert response.status_code == 200
        assert len(db.session.scalars(select(DistinctPair)).all()) == 1


def test_the_command_prints_the_pairs_as_json_without_private_values(runner, pair):
    _appeal, first, second = pair
    result = runner.invoke(args=["signatures", "duplicates", "vernite", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "pairs": [
            {
                "a": {"id": first.id, "name": "Налоева Мадина Руслановна"},
                "b": {"id": second.id, "name": "Naloyeva Madina Руслановна"},
                "score": 100,
                "agree": ["name", "patronymic", "region", "relative", "town"],
            }
        ]
    }
    for private in ("private", "7928", "@"):
        assert private not in result.output


def test_the_command_without_json_and_for_an_unknown_appeal(runner, pair, app):
    _appeal, _first, _second = pair
    result = runner.invoke(args=["signatures", "duplicates", "vernite"])
    assert result.exit_code == 0
    assert result.output.startswith("1 pair(s) scoring 80 or more.")
    app.config["DUPLICATE_THRESHOLD"] = 101
    result = runner.invoke(args=["signatures", "duplicates", "vernite", "--json"])
    assert json.loads(result.output) == {"pairs": []}
    result = runner.invoke(args=["signatures", "duplicates", "nowhere", "--json"])
    assert result.exit_code != 0 and "No appeal with the address 'nowhere'" in result.output
