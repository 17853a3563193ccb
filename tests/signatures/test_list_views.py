"""The desk's list of signatures: search in any script, filters, order, keyset pages, and who
sees what."""

import pytest

from campaign.accounts.models import Role
from campaign.extensions import db
from campaign.signatures.listing import PAGE_SIZE, Query, list_page
from campaign.signatures.models import Signature, SignatureSource
from campaign.signatures.moderation import flag_signature
from campaign.signatures.operations import SignData, sign_appeal
from campaign.signatures.paper import store_scan
from campaign.signatures.signer_links import withdraw_signature
from tests.scan_files import pdf_scan


@pytest.fixture
def editor(make_user):
    return make_user()


@pytest.fixture
def advocate(make_user):
    return make_user()


@pytest.fixture
def appeal(make_published_appeal, editor, advocate):
    return make_published_appeal(
        language="ru", country="RU", members={editor: Role.editor, advocate: Role.advocate}
    )


@pytest.fixture
def signers(appeal, make_signature):
    return {
        "madina": make_signature(
            appeal, surname="Налоева", given_name="Мадина", email="madina.secret@example.org"
        ),
        "aisha": make_signature(
            appeal, surname="Khasanova", given_name="Aisha", region="RU-DA", relationship="жена"
        ),
        "zaira": make_signature(appeal, surname="Умарова", given_name="Заира", region="RU-KB"),
    }


def names(response):
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("naloeva", "Налоева", "Khasanova"),
        ("Налоева Мадина", "Налоева", "Умарова"),
        ("Айша", "Khasanova", "Налоева"),
        ("aysha khas", "Khasanova", "Умарова"),
        ("NALO", "Налоева", "Khasanova"),
    ],
)
def test_search_by_name_in_any_script(
    client, login, editor, appeal, signers, query, found, not_found
):
    login(editor)
    page = names(client.get(f"/appeals/{appeal.id}/signatures", query_string={"q": query}))
    assert found in page
    assert not_found not in page


def test_the_search_key_follows_the_name_and_is_emptied_on_withdrawal(appeal, make_signature):
    signature = make_signature(appeal, surname="Налоева", given_name="Мадина", patronymic="")
    assert signature.name_key == "madina naloeva"
    outcome = sign_appeal(
        appeal,
        SignData(surname="Умарова", given_name="Заира", region="RU-KB", email="z@example.org"),
        consent="yes",
        confirm_within=None,
    )
    db.session.commit()
    withdraw_signature(outcome.withdraw_token)
    db.session.commit()
    assert db.session.get(Signature, outcome.signature.id).name_key == ""


def test_filters_status_region_relationship_version_and_dates(
    client, login, editor, appeal, signers
):
    login(editor)
    url = f"/appeals/{appeal.id}/signatures"
    flag_signature(signers["zaira"], seen_revision=0, actor_id=editor.id)
    db.session.commit()
    assert "Умарова" in names(client.get(url, query_string={"status": "flagged"}))
    assert "Налоева" not in names(client.get(url, query_string={"status": "flagged"}))
    page = names(client.get(url, query_string={"region": "RU-DA"}))
    assert "Khasanova" in page and "Налоева" not in page
    page = names(client.get(url, query_string={"relationship": "жена"}))
    assert "Khasanova" in page and "Умарова" not in page
    version = str(appeal.latest_version.id)
    assert "Налоева" in names(client.get(url, query_string={"version": version}))
    today = signers["madina"].created_at.date().isoformat()
    assert "Налоева" in names(client.get(url, query_string={"signed_from": today}))
    page = names(client.get(url, query_string={"signed_to": "2000-01-01"}))
    assert "Налоева" not in page and "No signature matches" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"status": "deleted"}, "Not a valid choice"),
        ({"region": "RU-XX"}, "Not a valid choice"),
        ({"version": "999999"}, "Not a valid choice"),
        ({"signed_from": "06.12.2026"}, "Enter a day as YYYY-MM-DD"),
        ({"signed_from": "2026-02-30"}, "Enter a day as YYYY-MM-DD"),
        ({"signed_from": "2026-12-06", "signed_to": "2026-12-01"}, "comes before the first"),
        ({"sort": "email"}, "Not a valid choice"),
        ({"q": "x" * 101}, "Field cannot be longer than 100 characters"),
        ({"q": "Nalo\u202eeva"}, "invisible or control characters"),
    ],
)
def test_bad_filter_values_are_told_and_kept(client, login, editor, appeal, signers, args, message):
    login(editor)
    response = client.get(f"/appeals/{appeal.id}/signatures", query_string=args)
    assert response.status_code == 200
    page = names(response)
    assert message in page
    assert "Nothing is shown until the filters are corrected" in page
    assert "Налоева" not in page
    for value in args.values():
        if value.isprintable() and len(value) < 20:
            assert value in page  # what was typed is kept


def test_the_list_is_keyset_paginated_in_each_order(app, appeal, make_signature):
    made = [make_signature(appeal, drawn=False) for _ in range(PAGE_SIZE + 5)]
    for sort in ("newest", "oldest", "surname"):
        first = list_page(appeal, Query(sort=sort))
        assert len(first.signatures) == PAGE_SIZE and first.after and first.before is None
        second = list_page(appeal, Query(sort=sort), after=first.after)
        assert len(second.signatures) == 5 and second.after is None
        seen = [s.id for s in first.signatures + list(second.signatures)]
        assert sorted(seen) == sorted(s.id for s in made)
        back = list_page(appeal, Query(sort=sort), before=second.before)
        assert [s.id for s in back.signatures] == [s.id for s in first.signatures]
    newest = list_page(appeal, Query(sort="newest")).signatures
    assert newest[0].id == made[-1].id


def test_a_page_mark_of_another_appeal_starts_at_the_first_page(
    app, appeal, make_signature, make_published_appeal
):
    make_signature(appeal)
    other = make_signature(make_published_appeal())
    page = list_page(appeal, Query(), after=other.id)
    assert len(page.signatures) == 1


def test_editors_see_contacts_and_advocates_do_not(
    client, login, editor, advocate, appeal, signers
):
    login(editor)
    assert "madina.secret@example.org" in names(client.get(f"/appeals/{appeal.id}/signatures"))
    client.post("/accounts/logout")
    login(advocate)
    page = names(client.get(f"/appeals/{appeal.id}/signatures"))
    assert "Налоева" in page
    assert "madina.secret@example.org" not in page
    assert 'name="signature"' not in page  # no bulk actions


def test_the_list_is_not_stored_by_the_browser(client, login, editor, appeal, signers):
    login(editor)
    response = client.get(f"/appeals/{appeal.id}/signatures")
    assert "no-store" in response.headers["Cache-Control"]


def test_another_organiser_gets_404(client, login, make_user, appeal, signers):
    login(make_user())
    assert client.get(f"/appeals/{appeal.id}/signatures").status_code == 404


def test_the_flagged_duplicates_filter(client, login, editor, appeal, make_signature):
    make_signature(appeal, surname="Налоева", given_name="Мадина", patronymic="")
    make_signature(appeal, surname="Naloyeva", given_name="Madina", patronymic="")
    make_signature(appeal, surname="Умарова", given_name="Заира", region="RU-KB")
    login(editor)
    page = names(client.get(f"/appeals/{appeal.id}/signatures", query_string={"duplicates": "y"}))
    assert "Налоева" in page and "Naloyeva" in page and "Умарова" not in page


def test_the_source_filter(client, login, editor, appeal, make_signature):
    make_signature(appeal, surname="Налоева", given_name="Мадина")
    paper = make_signature(appeal, surname="Умарова", given_name="Заира", region="RU-KB")
    paper.source, paper.sheet, paper.line = SignatureSource.paper, 3, 1
    db.session.commit()
    login(editor)
    url = f"/appeals/{appeal.id}/signatures"
    on_paper = names(client.get(url, query_string={"source": "paper"}))
    assert "Умарова" in on_paper and "Налоева" not in on_paper
    online = names(client.get(url, query_string={"source": "online"}))
    assert "Налоева" in online and "Умарова" not in online
    refused = names(client.get(url, query_string={"source": "carrier-pigeon"}))
    assert "Nothing is shown until the filters are corrected" in refused
    assert "Налоева" not in refused and "Умарова" not in refused


def test_unknown_arguments_stay_out_of_the_pages_links(
    client, login, editor, appeal, make_signature
):
    for _ in range(PAGE_SIZE + 1):
        make_signature(appeal, drawn=False)
    login(editor)
    response = client.get(
        f"/appeals/{appeal.id}/signatures",
        query_string={"appeal_id": "7", "_external": "1", "_scheme": "javascript", "q": "nalo"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    next_link = page.split('rel="next"')[0].rsplit('href="', 1)[1]
    assert "q=nalo" in next_link and next_link.startswith(f"/appeals/{appeal.id}/signatures?")
    assert "_external" not in next_link and "javascript" not in next_link


@pytest.fixture
def paper_rows(app, appeal, make_signature, tmp_path):
    """Online, paper on sheets 1 (scanned) and 2 (not), paper with no sheet."""
    app.config["PAPER_FOLDER"] = str(tmp_path / "paper")
    rows = {
        "online": make_signature(appeal, surname="Онлайнова"),
        "scanned": make_signature(appeal, surname="Сосканом"),
        "unscanned": make_signature(appeal, surname="Безскана"),
        "no_sheet": make_signature(appeal, surname="Безлиста"),
    }
    for key, sheet in (("scanned", 1), ("unscanned", 2), ("no_sheet", None)):
        rows[key].source, rows[key].sheet = SignatureSource.paper, sheet
    db.session.commit()
    store_scan(appeal, 1, pdf_scan())
    db.session.commit()
    return rows


def test_the_paper_rows_without_a_scan_filter(client, login, editor, appeal, paper_rows):
    login(editor)
    url = f"/appeals/{appeal.id}/signatures"
    page = names(client.get(url, query_string={"without_scan": "y", "source": "paper"}))
    assert "Безскана" in page and "Безлиста" in page
    assert "Сосканом" not in page and "Онлайнова" not in page
    # With the source filter set otherwise, nothing: a row without a scan is a paper row.
    online = names(client.get(url, query_string={"without_scan": "y", "source": "online"}))
    assert "No signature matches." in online
    query = Query(without_scan=True)
    assert {s.surname for s in list_page(appeal, query).signatures} == {"Безскана", "Безлиста"}


def test_the_filter_without_a_scan_pages_by_keyset(app, appeal, make_signature, tmp_path):
    app.config["PAPER_FOLDER"] = str(tmp_path / "paper")
    made = []
    for n in range(PAGE_SIZE + 13):  # ten on sheet 1, which has a scan
        signature = make_signature(appeal, drawn=False)
        signature.source, signature.sheet = SignatureSource.paper, 1 if n < 10 else 2 + n % 2
        made.append(signature)
    db.session.commit()
    store_scan(appeal, 1, pdf_scan())
    db.session.commit()
    expected = {s.id for s in made if s.sheet != 1}
    for sort in ("newest", "surname"):
        first = list_page(appeal, Query(without_scan=True, sort=sort))
        assert first.after and first.before is None
        second = list_page(appeal, Query(without_scan=True, sort=sort), after=first.after)
        assert second.after is None
        seen = [s.id for s in list(first.signatures) + list(second.signatures)]
        assert sorted(seen) == sorted(expected)
