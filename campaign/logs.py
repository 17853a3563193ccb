"""Keep the secrets carried by links (withdrawal, confirmation, reset, invitation) out of logs,
and the messages of unhandled errors, which may quote what someone typed.

Such a link is its own key: whoever reads it in a request log can withdraw a signature or take
over an account. Every route with a `token` argument is covered, found in the URL map.
"""

import logging
import re
import traceback
from collections.abc import MutableMapping

from flask import Flask

REDACTED = "[token]"
# A path also travels percent-encoded in a query (the login page's ?next=): "/" as "%2F".
_SLASH = r"(?:/|%2[fF])"
_SEGMENT = r"(?:(?!%2[fF])[^/?#&\s\"])+"


class TokenRedactor(logging.Filter):
    """Replace the token in any logged path of a route that takes one."""

    def __init__(self, app: Flask) -> None:
        super().__init__()
        rules = [rule.rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
        # One pass, longer rules tried first: where one rule extends another
        # (/accounts/email/<token> and /accounts/email/undo/<token>), the shorter one must not
        # take the longer one's fixed segment for its token and leave the real token as it is.
        rules.sort(key=len, reverse=True)
        alternatives = [_pattern(rule, f"token{n}") for n, rule in enumerate(rules)]
        self.paths = re.compile("|".join(alternatives)) if alternatives else None

    def redact(self, text: str) -> str:
        """Return text with the token of each secret-bearing path replaced."""
        return self.paths.sub(_without_token, text) if self.paths else text

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.redact(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.args, MutableMapping):
            # gunicorn's access log formats a mapping of atoms (request line, path, query,
            # referrer, headers). Changed in place: gunicorn's own mapping answers "-" for an
            # atom it lacks, which a plain dict would not.
            for key, value in record.args.items():
                if isinstance(value, str):
                    record.args[key] = self.redact(value)
        return True


def _pattern(rule: str, group: str) -> str:
    """A regular expression for the paths of a rule, with the token as the named group."""
    out = []
    for part in re.split(r"(<[^>]+>)", rule):
        if not part.startswith("<"):
            out.append(_SLASH.join(re.escape(piece) for piece in part.split("/")))
        elif re.fullmatch(r"<(\w+:)?token>", part):
            out.append(f"(?P<{group}>{_SEGMENT})")
        else:
            out.append(_SEGMENT)
    return "(?:" + "".join(out) + ")"


def _without_token(match: re.Match[str]) -> str:
    start, end = match.span(match.lastgroup)
    whole, offset = match.group(0), match.start(0)
    return whole[: start - offset] + REDACTED + whole[end - offset :]


class ErrorMessageHider(logging.Filter):
    """Log an error's type and frames, not its message: a database's or a library's words may
    quote a signer's address (PostgreSQL names a failing row, a mail server its recipient)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            kind, _error, frames = record.exc_info
            record.exc_text = (
                "Traceback (most recent call last):\n"
                + "".join(traceback.format_tb(frames)).rstrip("\n")
                + f"\n{kind.__module__}.{kind.__qualname__} (its message is not logged)"
            )
        return True


# The loggers that write a line per request: the development server's and gunicorn's.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")


def init_app(app: Flask) -> None:
    """Redact tokens from the request lines of the development server (the werkzeug logger)
    and of gunicorn (its access log), and hide the messages of the errors the app logs."""
    request_loggers = [logging.getLogger(name) for name in REQUEST_LOGGERS]
    for logger, kind in (
        *((request_logger, TokenRedactor) for request_logger in request_loggers),
        (app.logger, ErrorMessageHider),
    ):
        for old in [known for known in logger.filters if isinstance(known, kind)]:
            logger.removeFilter(old)
    redactor = TokenRedactor(app)
    for request_logger in request_loggers:
        request_logger.addFilter(redactor)
    app.logger.addFilter(ErrorMessageHider())
