"""Cookie and header hardening shared by every page."""

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

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
        return response
