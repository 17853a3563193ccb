"""Read the mail a test sent: each message is an .eml file in the test's outbox."""

import email
import re
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit


def mails(outbox: Path) -> list[Message]:
    """Return the messages sent so far, oldest first."""
    # The names begin with the time each was written, in nanoseconds (file times are coarser).
    files = sorted(outbox.glob("*.eml"))
    return [email.message_from_bytes(path.read_bytes()) for path in files]


def subject(message: Message) -> str:
    """Return the decoded subject."""
    return str(make_header(decode_header(message["Subject"])))


def body(message: Message) -> str:
    """Return the decoded text."""
    return message.get_payload(decode=True).decode()


def link_path(message: Message, prefix: str) -> str:
    """Return the path of the first link in the message that starts with prefix."""
    found = re.search(rf"https?://[^/\s]+({re.escape(prefix)}\S*)", body(message))
    assert found, body(message)
    return urlsplit(found.group(0)).path
