"""Error pages in the user's language."""

from typing import Any

from flask import Flask, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from campaign.security_log import log_security_event

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    401: (_l("Log in needed"), _l("Please log in to see this page.")),
    403: (_l("Not allowed"), _l("Your role on this appeal does not allow this action.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Wrong kind of request"), _l("This address does not accept that kind of request.")),
    410: (_l("Page gone"), _l("What was at this address is no longer here.")),
    413: (_l("Too large"), _l("What you sent is larger than this site accepts.")),
    415: (_l("Not accepted"), _l("This site does not accept that kind of file or data here.")),
    429: (
        _l("Too many attempts"),
        _l("There were too many attempts. Please wait a while and try again."),
    ),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. Please try again.")),
    503: (
        _l("Busy"),
        _l("The site is busy and nothing was saved. Please go back and try again."),
    ),
}


def render_error(code: int, message: Any = None) -> tuple[str, int]:
    """Render the error page for an HTTP status code.

    A code without words of its own gets its class's: a request the site refused (4xx) is not
    "an unexpected error".
    """
    title, default = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    return render_template("errors/error.html", title=title, message=message or default), code


def csrf_reason(description: str | None) -> str:
    """Return a short code for why a CSRF check failed, from Flask-WTF's English message."""
    words = (description or "").lower()
    for code in ("missing", "expired", "referrer", "do not match", "invalid"):
        if code in words:
            return code.replace(" ", "_")
    return "other"


def init_app(app: Flask) -> None:
    """Register the error pages."""

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[str, int]:
        log_security_event("csrf.failure", reason=csrf_reason(exc.description))
        return render_error(
            400,
            _l("The form had expired or came from elsewhere. Please go back, reload and retry."),
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        if exc.response is not None:  # a page of its own (a throttle that explains itself)
            return exc.response
        response = make_response(render_error(exc.code))
        # What the error says beyond its page: Allow (405), Retry-After (429, 503)...
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
