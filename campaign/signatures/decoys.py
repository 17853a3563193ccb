"""Withdrawal links for repeated signings that behave like real ones (models.WithdrawalDecoy).

Whoever types a woman's name and phone number into the form must not learn from the page
that follows, nor from its link, whether she had signed: a repeat gets a link that opens the
withdrawal page, answers "withdrawn" once and then is used up, and expires when an
unconfirmed signature would be purged, as a new signature's link does.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from campaign.clock import utcnow
from campaign.database import savepoint
from campaign.extensions import db
from campaign.link_tokens import token_hash
from campaign.signatures.models import WithdrawalDecoy


def issue_decoy(appeal_id: int, token: str, confirm_within: timedelta | None) -> str:
    """Make token a decoy withdrawal link of the appeal (once: the same form sent again keeps
    it); return it. confirm_within: how long a new signature would wait for confirmation."""
    hashed = token_hash(token)
    if db.session.scalar(select(WithdrawalDecoy.id).where(WithdrawalDecoy.token_hash == hashed)):
        return token
    expires_at = utcnow() + confirm_within if confirm_within is not None else None
    try:
        with savepoint():  # the same form sent twice at once: one row
            db.session.add(
                WithdrawalDecoy(appeal_id=appeal_id, token_hash=hashed, expires_at=expires_at)
            )
            db.session.flush()
    except IntegrityError:
        pass
    return token


def find_decoy(token: str) -> WithdrawalDecoy | None:
    """The decoy this link is, if any."""
    return db.session.scalar(
        select(WithdrawalDecoy).where(WithdrawalDecoy.token_hash == token_hash(token))
    )


def spend_decoy(decoy: WithdrawalDecoy) -> None:
    """The decoy was "withdrawn": it is used up, as a real link is once used."""
    db.session.execute(
        delete(WithdrawalDecoy).where(WithdrawalDecoy.id == decoy.id),
        execution_options={"synchronize_session": False},
    )


def purge_decoys(appeal_id: int | None = None, now: datetime | None = None) -> int:
    """Delete the decoys expired as unconfirmed signatures are purged; return how many."""
    statement = delete(WithdrawalDecoy).where(WithdrawalDecoy.expires_at < (now or utcnow()))
    if appeal_id is not None:
        statement = statement.where(WithdrawalDecoy.appeal_id == appeal_id)
    return db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount
