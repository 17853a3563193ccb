"""Addresses the site gives out: printed in PDFs, sent by mail, shown to be copied or shared."""

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request


def public_url_for(endpoint: str, **values: Any) -> str:
    """Return the full address of a page, built from PUBLIC_URL rather than from a request.

    Queued jobs have no request, and a request's Host header is the client's to choose: an
    address that leaves the site must not depend on it.
    """
    address = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        address.netloc, script_name=address.path or "/", url_scheme=address.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


def init_app(app: Flask) -> None:
    """Warn once per process when requests come for another host than PUBLIC_URL names.

    A site left with the default PUBLIC_URL would mail withdrawal links that lead nowhere; the
    operator hears of it in the log at the first request, without the Host header being trusted.
    """
    warned = False

    @app.before_request
    def _check_public_url() -> None:
        nonlocal warned
        if warned:
            return
        configured = urlsplit(app.config["PUBLIC_URL"]).netloc
        if request.host != configured:
            warned = True
            app.logger.warning(
                "Requests arrive for %r but PUBLIC_URL is %r: every link the site gives out "
                "(mail, sharing, QR codes, dossiers) uses PUBLIC_URL. Set CAMPAIGN_PUBLIC_URL.",
                request.host[:100],
                app.config["PUBLIC_URL"],
            )
