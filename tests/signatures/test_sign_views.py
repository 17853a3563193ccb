"""The sign POST's cost in statements: what it reads and writes, counted, so that it cannot grow
unseen (timings are benchmarks' business: tools/bench_web.py)."""

import pytest
from sqlalchemy import event

from campaign.extensions import db

# Read: the appeal and its latest version, the form's settings, a form sent before, the
# signatures with her contact. Then one transaction: a savepoint around her signature, the words
# of her name for the desk's search (signatures.name_words) and her image, with the appeal's
# state read again, her relative's family (read, started, linked), the tally. Nothing is read
# back after the commit.
WITHOUT_MAIL = 15
# Her contact's signatures read, her mail stored in a savepoint; and here, where the queue runs
# its job at once, the job's claim, read and delete of the sent mail (a worker's, in
# production).
WITH_MAIL = 22


@pytest.fixture
def statements(client, monkeypatch):
    """The statements sent to the database during the client's POSTs."""
    sent = []
    post = client.post

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    def counted(*args, **kwargs):
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            return post(*args, **kwargs)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    monkeypatch.setattr(client, "post", counted)
    return sent


def test_signing_without_an_address_sends_so_many_statements(open_appeal, sign, statements):
    assert sign(open_appeal, email="").status_code == 302
    assert len(statements) <= WITHOUT_MAIL, "\n".join(statements)


def test_signing_with_an_address_sends_so_many_statements(open_appeal, sign, statements, outbox):
    assert sign(open_appeal).status_code == 302
    assert len(statements) <= WITH_MAIL, "\n".join(statements)
    assert outbox  # her mail went (in tests, the queue runs its job at once)
