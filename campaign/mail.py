"""Outgoing mail through Flask-Mailman; by default each message is an .eml file in instance/."""

import os
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_mailman import EmailMessage, Mail
from flask_mailman.backends.base import BaseEmailBackend

from campaign.private_files import private_folder

mail = Mail()
mail_cli = AppGroup("mail", help="Outgoing mail.")

# The outbox is looked through for old messages at most this often per process (seconds):
# after a load run it held 100,000 files, too many to list at every message.
_PURGE_EVERY = 600.0
_purged_at: dict[str, float] = {}
_purge_lock = threading.Lock()


class EmailBackend(BaseEmailBackend):
    """Write each message to its own .eml file, atomically, so no mail server is needed.

    The names sort in the order the messages were written (a clock in nanoseconds first). The
    folder is 0700 and each file 0600: a message may carry a signer's address and her private
    withdrawal link. Messages older than MAIL_OUTBOX_RETENTION_DAYS are deleted as new ones are
    written (and by `flask mail purge-outbox`).
    """

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Write the messages; return how many were written."""
        outbox = private_folder(current_app.config["MAIL_OUTBOX"])
        for message in email_messages:
            fd, temporary = tempfile.mkstemp(dir=outbox, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.message().as_bytes())
            name = f"{time.time_ns():020d}-{uuid.uuid4().hex}.eml"
            os.replace(temporary, outbox / name)
        _purge_now_and_then(outbox)
        return len(email_messages)


def purge_outbox(outbox: Path, keep_days: float, now_ns: int | None = None) -> int:
    """Delete the messages (and stray partial files) written more than `keep_days` ago;
    return how many were deleted."""
    if not outbox.is_dir():
        return 0
    cutoff = (now_ns if now_ns is not None else time.time_ns()) - int(keep_days * 86_400e9)
    removed = 0
    with os.scandir(outbox) as entries:
        for entry in entries:
            if not entry.name.endswith((".eml", ".tmp")) or not entry.is_file():
                continue
            if _written_ns(entry) < cutoff:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed


def _written_ns(entry: os.DirEntry[str]) -> int:
    # The name says when it was written; a file named otherwise by its modification time.
    stamp = entry.name.split("-", 1)[0]
    if len(stamp) == 20 and stamp.isdigit():
        return int(stamp)
    return entry.stat().st_mtime_ns


def _purge_now_and_then(outbox: Path) -> None:
    key = str(outbox)
    now = time.monotonic()
    with _purge_lock:
        if key in _purged_at and now - _purged_at[key] < _PURGE_EVERY:
            return
        _purged_at[key] = now
    purge_outbox(outbox, float(current_app.config["MAIL_OUTBOX_RETENTION_DAYS"]))


def send_mail(to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None:
    """Send a plain-text message to one address now, with extra headers if given
    (List-Unsubscribe on updates to signers). Only jobs on the task queue call this: every
    sender uses mail_queue.queue_mail, which retries and keeps dead letters; an update's
    mailing (submissions.mailings) counts its own sent and failed."""
    EmailMessage(subject=subject, body=body, to=[to], headers=headers or {}).send()


@mail_cli.command("purge-outbox")
def purge_outbox_command() -> None:
    """Delete messages older than MAIL_OUTBOX_RETENTION_DAYS from the development outbox."""
    days = float(current_app.config["MAIL_OUTBOX_RETENTION_DAYS"])
    removed = purge_outbox(Path(current_app.config["MAIL_OUTBOX"]), days)
    click.echo(f"Deleted {removed} message(s) older than {days:g} day(s) from the outbox.")


def init_app(app: Flask) -> None:
    """Attach Flask-Mailman, writing to instance/outbox unless configured otherwise."""
    app.config.setdefault("MAIL_OUTBOX", str(Path(app.instance_path) / "outbox"))
    mail.init_app(app)
    app.cli.add_command(mail_cli)
