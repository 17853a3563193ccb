"""The development outbox: one file per message, named so that they sort as they were sent."""

from campaign.mail import send_mail
from tests.mailbox import body, mails, subject


def test_messages_sort_in_the_order_they_were_sent(app, outbox):
    for n in range(20):
        send_mail("madina@example.org", f"Message {n}", f"Text {n}")
    sent = mails(outbox)
    assert [subject(message) for message in sent] == [f"Message {n}" for n in range(20)]
    assert body(sent[-1]).strip() == "Text 19"
    assert not list(outbox.glob("*.tmp"))  # each written whole, then named
