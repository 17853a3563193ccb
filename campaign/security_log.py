"""The security log: one line per event an operator watches for (refused forms, throttles,
logins), stamped in UTC, with no personal data.

A line names the event, the request's method and route (the rule, never the path: a path may
hold a link's secret), the first part of the client's address, and codes or numbers only:
never an email, a name, a whole address or anything someone typed.
"""

import ipaddress
import logging
import re
import sys
import time
from typing import Any

from flask import Flask, Response, has_request_context, request

LOGGER_NAME = "campaign.security"
logger = logging.getLogger(LOGGER_NAME)
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_CODE = re.compile(r"[a-z0-9_.:-]{1,64}\Z")


class UTCFormatter(logging.Formatter):
    """Stamp each line in UTC, ISO 8601 with a Z: servers in different zones read alike."""

    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """Return the record's time as 2026-12-07T10:15:00.123Z."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def network_of(address: str | None) -> str:
    """Return the first part of an IP address ("192.0.2.x", "2001:db8:85a3:x"), never all
    of it; "" when there is none."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return ".".join(str(ip).split(".")[:3]) + ".x"
    hextets = [part.lstrip("0") or "0" for part in ip.exploded.split(":")[:3]]
    return ":".join(hextets) + ":x"


def log_security_event(event: str, *, level: int = logging.WARNING, **fields: Any) -> None:
    """Log one security event; field values must be numbers, flags or short lower-case codes."""
    parts = [f"event={event}"]
    if has_request_context():
        rule = request.url_rule.rule if request.url_rule is not None else "-"
        parts += [
            f"method={request.method}",
            f"route={rule}",
            f"net={network_of(request.remote_addr) or '-'}",
        ]
    for name, value in fields.items():
        if not _is_code(value):
            raise ValueError(f"Security log field {name!r} must be a number, a flag or a code.")
        parts.append(f"{name}={value}")
    logger.log(level, " ".join(parts))


def _is_code(value: Any) -> bool:
    if value is None or isinstance(value, bool | int):
        return True
    return isinstance(value, str) and _CODE.match(value) is not None


def init_app(app: Flask) -> None:
    """Send the security log to standard error in UTC, and log every throttled request and
    every upload refused for its size, whichever view or handler answered."""
    for old in [h for h in logger.handlers if isinstance(h.formatter, UTCFormatter)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(UTCFormatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # Its own lines, once: not again through the app logger's handler.
    logger.propagate = False

    @app.after_request
    def _log_refusals(response: Response) -> Response:
        if response.status_code == 429:
            log_security_event("rate_limited")
        elif response.status_code == 413:
            log_security_event("upload.refused", reason="too_large")
        return response
