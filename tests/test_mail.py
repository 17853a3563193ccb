"""The development outbox: one file per message, named so that they sort as they were sent."""

import os
import stat
import time

from campaign.mail import send_mail
from tests.mailbox import body, mails, subject


def test_messages_sort_in_the_order_they_were_sent(app, outbox):
    for n in range(20):
        send_mail("madina@example.org", f"Message {n}", f"Text {n}")
    sent = mails(outbox)
    assert [subject(message) for message in sent] == [f"Message {n}" for n in range(20)]
    assert body(sent[-1]).strip() == "Text 19"
    assert not list(outbox.glob("*.tmp"))  # each written whole, then named


def _written(outbox, days_ago, name="old"):
    """A message file as the backend names it, written `days_ago` days ago."""
    stamp = time.time_ns() - int(days_ago * 86_400e9)
    path = outbox / f"{stamp:020d}-{name}.eml"
    path.write_text("To: madina@example.org\n\nhttps://campaign.test/a/x/withdraw/secret\n")
    return path


def test_the_outbox_is_private_and_forgets_messages_after_a_few_days(app, outbox):
    assert app.config["MAIL_OUTBOX_RETENTION_DAYS"] == 3
    outbox.mkdir(mode=0o755)
    outbox.chmod(0o755)
    old, recent = _written(outbox, 3.5), _written(outbox, 2.5, "recent")
    stray = outbox / "tmpabc.tmp"  # a write interrupted long ago
    stray.write_bytes(b"half a message")
    os.utime(stray, ns=(time.time_ns() - 4 * 86_400 * 10**9,) * 2)
    send_mail("madina@example.org", "New", "Text")
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert not old.exists() and not stray.exists() and recent.exists()
    [new] = [p for p in outbox.glob("*.eml") if p != recent]
    assert stat.S_IMODE(new.stat().st_mode) == 0o600


def test_purge_outbox_command(app, runner, outbox):
    outbox.mkdir()
    old, recent = _written(outbox, 10), _written(outbox, 1, "recent")
    app.config["MAIL_OUTBOX_RETENTION_DAYS"] = 2
    result = runner.invoke(args=["mail", "purge-outbox"])
    assert result.exit_code == 0
    assert "Deleted 1 message(s) older than 2 day(s)" in result.output
    assert not old.exists() and recent.exists()
