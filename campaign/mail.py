"""Outgoing mail through Flask-Mailman; by default each message is an .eml file in instance/."""

import os
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from flask import Flask, current_app
from flask_mailman import EmailMessage, Mail
from flask_mailman.backends.base import BaseEmailBackend

mail = Mail()


class EmailBackend(BaseEmailBackend):
    """Write each message to its own .eml file, atomically, so no mail server is needed.

    The names sort in the order the messages were written (a clock in nanoseconds first).
    """

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Write the messages; return how many were written."""
        outbox = Path(current_app.config["MAIL_OUTBOX"])
        outbox.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            fd, temporary = tempfile.mkstemp(dir=outbox, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.message().as_bytes())
            name = f"{time.time_ns():020d}-{uuid.uuid4().hex}.eml"
            os.replace(temporary, outbox / name)
        return len(email_messages)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message to one address."""
    EmailMessage(subject=subject, body=body, to=[to]).send()


def init_app(app: Flask) -> None:
    """Attach Flask-Mailman, writing to instance/outbox unless configured otherwise."""
    app.config.setdefault("MAIL_OUTBOX", str(Path(app.instance_path) / "outbox"))
    mail.init_app(app)
