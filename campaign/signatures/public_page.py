"""The appeal page as every anonymous visitor sees it: the same bytes for each, so it is kept
for a few seconds in each process and may be kept as long by a proxy in front of the site.

What made it differ per visitor (the form's CSRF token, the fill-time stamp, the session cookie
they set) comes from a small request after the page has loaded (`signatures.form_token`,
filled in by static/js/form-token.js). A visitor without scripts gets the form back with a
token of her own when she first sends it, with what she typed kept.

Counts, regions and the latest signatories on it are up to PUBLIC_PAGE_MAX_AGE seconds old; so is
which page an address shows (a new version of the letter, the form's settings, a closing or a
move show within as long), so that a visit to a kept page reads nothing from the database.
"""

import threading
from collections.abc import Callable

from cachetools import TTLCache
from flask import Response, current_app, request, session
from flask_login import current_user

from campaign.appeals.models import Appeal
from campaign.i18n import current_language

_lock = threading.Lock()
_pages: TTLCache[tuple[object, ...], str] | None = None
# Which kept page an address shows (in a language, with a query), so that a visit to a kept
# page reads nothing from the database.
_keys: TTLCache[tuple[object, ...], tuple[object, ...]] | None = None


def shown_to_everyone() -> bool:
    """True for a visitor the page is the same for: not logged in, nothing flashed to her."""
    return not current_user.is_authenticated and "_flashes" not in session


def _cache() -> TTLCache[tuple[object, ...], str]:
    global _pages
    seconds = current_app.config["PUBLIC_PAGE_MAX_AGE"]
    if _pages is None or _pages.ttl != seconds:
        _pages = TTLCache(maxsize=current_app.config["PUBLIC_PAGE_CACHE_SIZE"], ttl=seconds)
    return _pages


def cached_page(appeal: Appeal, key: tuple[object, ...], render: Callable[[], str]) -> Response:
    """Return the anonymous page for `key`, rendered by `render` at most once per max-age in
    this process, marked cacheable by any cache on the way for as long."""
    seconds = current_app.config["PUBLIC_PAGE_MAX_AGE"]
    full_key = (current_app.name, id(current_app), appeal.id, *key)
    html = None
    if seconds > 0:
        with _lock:
            html = _cache().get(full_key)
    if html is None:
        html = render()
        if seconds > 0:
            with _lock:
                _cache()[full_key] = html
    if seconds > 0:
        with _lock:
            _addresses()[_address(appeal.slug)] = full_key
    return _shared(html, seconds)


def kept_page(slug: str) -> Response | None:
    """Return the page kept for this address, language and query, without reading the
    database; None when none is kept.

    Which page an address shows (the letter's version, the form's settings, whether the
    appeal is still there) is itself kept for max-age: a change shows after it, as the counts do.
    """
    seconds = current_app.config["PUBLIC_PAGE_MAX_AGE"]
    if seconds <= 0:
        return None
    with _lock:
        full_key = _addresses().get(_address(slug))
        html = None if full_key is None else _cache().get(full_key)
    return None if html is None else _shared(html, seconds)


def _shared(html: str, seconds: int) -> Response:
    response = current_app.make_response(html)
    if seconds > 0:
        response.cache_control.public = True
        response.cache_control.max_age = seconds
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def _address(slug: str) -> tuple[object, ...]:
    return (current_app.name, id(current_app), slug, current_language(), *page_key())


def _addresses() -> TTLCache[tuple[object, ...], tuple[object, ...]]:
    global _keys
    seconds = current_app.config["PUBLIC_PAGE_MAX_AGE"]
    if _keys is None or _keys.ttl != seconds:
        _keys = TTLCache(maxsize=current_app.config["PUBLIC_PAGE_CACHE_SIZE"], ttl=seconds)
    return _keys


def page_key() -> tuple[object, ...]:
    """What else the page depends on besides the appeal: the query string (the list's page)."""
    return (request.query_string,)


def forget_pages(_sender: object = None, **_details: object) -> None:
    """Drop every kept page of this process (tests; a change that must show at once).

    Connected to the withdrawal and erasure signals: the name of a signer who withdrew leaves
    the pages this process serves at once (other processes and proxies keep theirs for
    max-age at most).
    """
    with _lock:
        for kept in (_pages, _keys):
            if kept is not None:
                kept.clear()
