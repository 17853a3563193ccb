"""Languages: choose the page language, switch it, and name countries in it."""

import gettext
from functools import cache
from urllib.parse import urlsplit

import pycountry
from babel import support
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
)
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.i18n import messages_path as wtforms_messages_path

from campaign.extensions import babel, csrf, db
from campaign.time_zones import in_zone, select_time_zone, zone_label

LANGUAGE_COOKIE = "lang"
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}

bp = Blueprint("language", __name__, url_prefix="/language")


class LanguageForm(FlaskForm):
    """The switcher shown on every page: one button per language."""

    next = HiddenField()
    ru = SubmitField(LANGUAGE_NAMES["ru"])
    en = SubmitField(LANGUAGE_NAMES["en"])


def select_locale() -> str:
    """Pick the language: the remembered choice, then Accept-Language, then the default."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line and the task queue
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_language() -> str:
    """Return the language code of the current page."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def safe_next(target: str | None) -> str:
    """Return target if it is a path on this site, else the home page (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return "/"  # no backslash (read as "/" by browsers), no line break (a header's end)
    return target


@bp.post("/")
@csrf.exempt  # the form checks its own token: without one, it is asked again below
def switch() -> Response | tuple[str, int]:
    """Remember the chosen language in a cookie (and, logged in, as the account's, which
    its mails use) and go back to the page."""
    form = LanguageForm()
    target = safe_next(form.next.data)
    response = redirect(target)
    if not form.validate_on_submit():
        # Sent from the page every visitor shares (its token comes from a script that did not
        # run), or forged: nothing changes, and the choice is offered with a token of her own.
        return render_template("language/choose.html", chooser=LanguageForm(next=target)), 400
    choice = "en" if form.en.data else "ru"
    from campaign.security import cookie_is_secure

    if current_user.is_authenticated and current_user.language != choice:
        current_user.language = choice
        db.session.commit()

    response.set_cookie(
        LANGUAGE_COOKIE,
        choice,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=cookie_is_secure(current_app),
    )
    return response


@cache
def _wtforms_messages(language: str) -> support.Translations:
    """WTForms' own messages in a language, read from disk once per process."""
    return support.Translations.load(wtforms_messages_path(), [language], domain="wtforms")


def _give_forms_their_messages() -> None:
    # Flask-WTF reads WTForms' catalogue from disk on every request that builds a form (4-6 %
    # of a sign POST, shared/notes/web-load.md) unless the request already carries it under
    # this name (flask_wtf.i18n; tests/test_i18n.py fails if that changes).
    request.wtforms_translations = _wtforms_messages(current_language())


@cache
def _country_translation(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_choices(language: str) -> list[tuple[str, str]]:
    """Return (alpha-2 code, name in the language) for every country, sorted by name."""
    translation = _country_translation(language)
    choices = [
        (country.alpha_2, translation.gettext(getattr(country, "common_name", country.name)))
        for country in pycountry.countries
    ]
    return sorted(choices, key=lambda choice: choice[1].casefold())


def country_name(code: str, language: str) -> str:
    """Return the name of an ISO 3166-1 alpha-2 country code in the language."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return _country_translation(language).gettext(getattr(country, "common_name", country.name))


def init_app(app: Flask) -> None:
    """Attach Flask-Babel and the language switcher to the app."""
    from campaign import ROOT

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_time_zone)
    app.add_template_filter(in_zone)
    app.add_template_global(zone_label)
    app.register_blueprint(bp)
    app.before_request(_give_forms_their_messages)

    @app.context_processor
    def _language_context() -> dict[str, object]:
        if not has_request_context():  # a PDF rendered by a command or a queued job
            return {}
        # A page shared by every visitor holds no token of one (signatures/public_page.py):
        # making the form would put one in her session.
        shared = bool(g.get("page_for_everyone"))
        return {
            "language_form": LanguageForm(
                formdata=None, next=request.full_path.rstrip("?"), meta={"csrf": not shared}
            ),
            "current_language": current_language(),
            "language_names": LANGUAGE_NAMES,
        }
