"""Languages: the choice of language, the switcher, and complete catalogues."""

import pytest
from babel.messages.pofile import read_po

from campaign import ROOT
from campaign.accounts.models import User
from campaign.extensions import db
from campaign.i18n import country_name, safe_next
from tools.catalogues import extract


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    extract(pot)
    with pot.open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_catalogue_translates_every_message_in_code_and_templates(extracted, language):
    path = ROOT / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    missing, untranslated = [], []
    for message in extracted:
        if not message.id:
            continue
        translated = catalogue.get(message.id)
        if translated is None:
            missing.append(message.id)
        elif "fuzzy" in translated.flags or not (
            all(translated.string) if isinstance(translated.string, tuple) else translated.string
        ):
            untranslated.append(message.id)
    assert not missing, f"not in {language} catalogue (run `make messages`): {missing}"
    assert not untranslated, f"untranslated in {language}: {untranslated}"


def test_extraction_finds_python_and_template_messages(extracted):
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in extracted}
    assert "Give the appeal a title." in ids  # lazy_gettext in a form
    assert "My appeals" in ids  # a template
    assert "signature" in ids  # ngettext in a template


def test_language_from_accept_language(client):
    assert '<html lang="ru">' in client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).text
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en-GB"}).text


def test_default_language_when_nothing_matches(client):
    assert '<html lang="ru">' in client.get("/", headers={"Accept-Language": "de"}).text


def test_russian_page_is_in_russian(client):
    html = client.get("/accounts/login", headers={"Accept-Language": "ru"}).text
    assert "Войти" in html


def test_switcher_remembers_the_choice_over_accept_language(client):
    response = client.post(
        "/language/",
        data={"en": "English", "next": "/accounts/login"},
        headers={"Accept-Language": "ru"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login"
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "ru"}).text
    client.post("/language/", data={"ru": "Русский", "next": "/"})
    assert '<html lang="ru">' in client.get("/", headers={"Accept-Language": "en"}).text


def test_switching_logged_in_makes_it_the_accounts_language_for_mail(
    client, make_user, login, outbox
):
    from campaign.accounts.mailed_links import send_reset_mail
    from tests.mailbox import mails, subject

    user = make_user(language="ru")
    login(user)
    client.post("/language/", data={"en": "English", "next": "/"})
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "en"
    send_reset_mail(user.id)
    assert subject(mails(outbox)[-1]) == "Choose a new password"
    client.post("/language/", data={"ru": "Русский", "next": "/"})
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "ru"


def test_switcher_is_on_every_page(client):
    for path in ("/", "/accounts/login", "/accounts/signup", "/a/missing"):
        html = client.get(path).text
        assert 'action="/language/"' in html and 'name="en"' in html and 'name="ru"' in html


def test_unknown_language_cookie_is_ignored(client):
    client.set_cookie("lang", "xx", domain="campaign.test")
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en"}).text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\r\nX-Injected: 1",
        "/a\tb",
        "",
        None,
    ],
)
def test_switcher_never_redirects_off_site(target):
    assert safe_next(target) == "/"


def test_switcher_keeps_local_paths_and_query():
    assert safe_next("/appeals/3/diff?old=1&new=2") == "/appeals/3/diff?old=1&new=2"


def test_country_names_follow_the_language():
    assert country_name("RU", "ru") == "Российская Федерация"
    assert country_name("RU", "en") == "Russian Federation"


def test_a_line_break_in_next_goes_home_rather_than_failing(client):
    response = client.post("/language/", data={"language": "ru", "next": "/\r\nX-Injected: 1"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "X-Injected" not in response.headers


def test_wtforms_messages_are_read_once_and_in_the_page_language(
    client, make_published_appeal, monkeypatch
):
    from babel import support

    from campaign import i18n

    appeal = make_published_appeal(country="RU")
    loads = []
    load = support.Translations.load
    monkeypatch.setattr(
        support.Translations, "load", lambda *a, **k: loads.append(a) or load(*a, **k)
    )
    i18n._wtforms_messages.cache_clear()
    for _ in range(2):
        page = client.post(
            f"/a/{appeal.slug}",
            data={"region": "XX", "surname": "Налоева"},
            headers={"Accept-Language": "ru"},
        ).get_data(as_text=True)
        assert "Неверный вариант" in page  # WTForms' own message, in Russian
    # Once for the process, not once a request (Flask-WTF's own load is not reached either).
    assert len([args for args in loads if "wtforms" in str(args[0])]) == 1
