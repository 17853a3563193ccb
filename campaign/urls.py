"""Addresses the site gives out: printed in PDFs, sent by mail, shown to be copied or shared."""

from typing import Any

from flask import current_app, url_for


def public_url_for(endpoint: str, **values: Any) -> str:
    """Return the full address of a page, built from PUBLIC_URL rather than from a request.

    Queued jobs have no request, and a request's Host header is the client's to choose: an
    address that leaves the site must not depend on it.
    """
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)
