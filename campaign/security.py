"""Cookie and header hardening shared by every page."""

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Return True when configured so, or when this request is HTTPS."""
        forced = bool(app.config["SESSION_COOKIE_SECURE"])
        return forced or (has_request_context() and request.is_secure)


# Blueprints whose every page is behind a login: the organiser's pages and the account's.
PRIVATE_BLUEPRINTS = frozenset({"accounts", "appeals"})
# Pages of the public blueprints that show a secret without taking it in their address: the
# thank-you page shows the signer's withdrawal link.
PRIVATE_ENDPOINTS = frozenset({"signatures.thanks"})


def is_private_rule(rule: Rule) -> bool:
    """Return True for a route whose pages may show a token or private data: an organiser's or
    an account's page (its blueprint, or an appeal_id in its address), a page reached with a
    link's secret (a token in its address), and the thank-you page."""
    return (
        rule.endpoint.partition(".")[0] in PRIVATE_BLUEPRINTS
        or "appeal_id" in rule.arguments
        or "token" in rule.arguments
        or rule.endpoint in PRIVATE_ENDPOINTS
    )


def _must_not_be_stored(response: Response) -> bool:
    # A page answering a form (not a redirect) shows what was typed, private fields included.
    if request.method == "POST" and not 300 <= response.status_code < 400:
        return True
    return request.url_rule is not None and is_private_rule(request.url_rule)


def cookie_is_secure(app: Flask) -> bool:
    """Return whether cookies set now must carry the Secure flag."""
    return SessionInterface().get_cookie_secure(app)


def init_app(app: Flask) -> None:
    """Install the session interface, the proxy fix and the security headers."""
    app.session_interface = SessionInterface()
    proxies = int(app.config["PROXY_COUNT"])
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # The origin only, even on this site: a page's address can hold a link's secret
        # (withdrawal, reset), which the next request's Referer would carry into access logs.
        # The origin is what CSRF protection over HTTPS compares.
        response.headers.setdefault("Referrer-Policy", "strict-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if _must_not_be_stored(response):
            # Neither a shared computer's cache nor its history (the back button) keeps it:
            # the next person on a family's phone must not find her withdrawal link there.
            if "no-store" not in response.headers.get("Cache-Control", ""):
                response.headers["Cache-Control"] = "no-store"  # a view's own one may say more
            response.headers.pop("Expires", None)
        return response
