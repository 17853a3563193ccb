"""`flask accounts purge`: what a daily run removes, and what it keeps."""

from datetime import timedelta

from sqlalchemy import select

from campaign.accounts.models import AddressChange, User
from campaign.clock import utcnow
from campaign.extensions import db


def test_purge_removes_only_what_has_expired(app, runner, make_user):
    week = app.config["SIGNUP_LINK_LIFETIME"]
    make_user(email="stale@example.org", email_confirmed_at=None, created_at=utcnow() - 2 * week)
    make_user(email="fresh@example.org", email_confirmed_at=None)
    kept = make_user(email="kept@example.org", created_at=utcnow() - 2 * week)  # confirmed
    undo = app.config["EMAIL_UNDO_LINK_LIFETIME"]
    for days_ago, address in ((undo + timedelta(days=1), "old@example.org"), (timedelta(0), "new")):
        db.session.add(
            AddressChange(user_id=kept.id, old_email=address, changed_at=utcnow() - days_ago)
        )
    db.session.commit()

    result = runner.invoke(args=["accounts", "purge"])

    assert result.exit_code == 0, result.output
    assert "Purged 1 unconfirmed account(s), 1 expired address change(s)" in result.output
    db.session.expire_all()
    emails = set(db.session.scalars(select(User.email)))
    assert emails == {"fresh@example.org", "kept@example.org"}
    assert db.session.scalars(select(AddressChange.old_email)).all() == ["new"]
