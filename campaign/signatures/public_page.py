"""The appeal page as every anonymous visitor sees it: the same bytes for each, so it is kept
for a few seconds in each process and may be kept as long by a proxy in front of the site.

What made it differ per visitor (the form's CSRF token, the fill-time stamp, the session cookie
they set) comes from a small request after the page has loaded (`signatures.form_token`,
filled in by static/js/form-token.js). A visitor without scripts gets the form back with a
token of her own when she first sends it, with what she typed kept.

Counts, regions and the latest signatories on it are up to PUBLIC_PAGE_MAX_AGE seconds old.
"""

import threading
from collections.abc import Callable

from cachetools import TTLCache
from flask import Response, current_app, request, session
from flask_login import current_user

from campaign.appeals.models import Appeal

_lock = threading.Lock()
_pages: TTLCache[tuple[object, ...], str] | None = None


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
    response = current_app.make_response(html)
    if seconds > 0:
        response.cache_control.public = True
        response.cache_control.max_age = seconds
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def page_key() -> tuple[object, ...]:
    """What else the page depends on besides the appeal: the query string (the list's page)."""
    return (request.query_string,)


def forget_pages() -> None:
    """Drop every kept page of this process (tests; a change that must show at once)."""
    with _lock:
        if _pages is not None:
            _pages.clear()
