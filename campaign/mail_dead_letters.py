"""Messages that could not go (dead letters): listed with their addresses masked, queued
again, and deleted MAIL_DEAD_LETTER_DAYS after they were written, since they may hold a
signer's address and her private links."""

from datetime import datetime, timedelta

import click
from flask import current_app
from sqlalchemy import delete, select, update

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.mail import mail_cli
from campaign.mail_queue import (
    LOST_AFTER,
    MailStatus,
    OutgoingMail,
    send_later,
    unclaimed,
)


def purge_dead_letters(now: datetime | None = None) -> int:
    """Delete the dead letters written more than MAIL_DEAD_LETTER_DAYS ago (they may hold a
    signer's address and her private links); return how many. Flushes, never commits."""
    written_before = (now or utcnow()) - timedelta(
        days=float(current_app.config["MAIL_DEAD_LETTER_DAYS"])
    )
    gone = db.session.execute(
        delete(OutgoingMail)
        .where(OutgoingMail.status == MailStatus.dead, OutgoingMail.created_at < written_before)
        .execution_options(synchronize_session=False)
    )
    return gone.rowcount or 0


def mask_address(address: str) -> str:
    """Show enough of an address to recognise it, not to read it: m***@e***.org."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    name, dot, tld = domain.rpartition(".")
    shown_domain = f"{name[:1]}***{dot}{tld}" if dot else f"{domain[:1]}***"
    return f"{local[:1]}***@{shown_domain}"


@mail_cli.command("dead-letters")
def dead_letters_command() -> None:
    """List the messages that could not be sent (addresses masked)."""
    rows = db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.status == MailStatus.dead).order_by(OutgoingMail.id)
    ).all()
    if not rows:
        click.echo("No dead letters.")
        return
    for row in rows:
        click.echo(
            f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M} UTC\t{row.purpose}\t"
            f"{mask_address(row.recipient)}\t{row.attempts} attempt(s)\t{row.last_error}"
        )
    click.echo(f"{len(rows)} dead letter(s); `flask mail retry ID` or `--all` sends them again.")


@mail_cli.command("retry")
@click.argument("mail_ids", nargs=-1, type=int)
@click.option(
    "--all",
    "retry_all",
    is_flag=True,
    help="Every dead letter, and every queued mail its queue lost (due 15 minutes ago).",
)
def retry_command(mail_ids: tuple[int, ...], retry_all: bool) -> None:
    """Queue dead letters (given by ID, or --all) to be sent again.

    A message a job is sending at that moment is left to it (and said so).
    """
    if bool(mail_ids) == retry_all:
        raise click.UsageError("Give the ids of dead letters, or --all.")
    now = utcnow()
    query = select(OutgoingMail.id, OutgoingMail.purpose)
    if retry_all:
        query = query.where(
            (OutgoingMail.status == MailStatus.dead)
            | (OutgoingMail.next_attempt_at < now - LOST_AFTER)
        )
    else:
        query = query.where(OutgoingMail.id.in_(mail_ids))
    rows = db.session.execute(query.order_by(OutgoingMail.id)).all()
    missing = sorted(set(mail_ids) - {mail_id for mail_id, _purpose in rows})
    if missing:
        raise click.ClickException(
            f"No mail waiting with id {', '.join(map(str, missing))} (sent, or never stored)."
        )
    queued, sending = [], []
    for mail_id, purpose in rows:
        taken = db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id, unclaimed(now))
            .values(status=MailStatus.queued, attempts=0, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        (queued if taken.rowcount == 1 else sending).append((mail_id, purpose))
    db.session.commit()
    for mail_id, purpose in queued:
        send_later(mail_id, purpose, 0.0)
    if sending:
        ids = ", ".join(str(mail_id) for mail_id, _purpose in sending)
        click.echo(f"Being sent now, left to its job: {ids}.")
    click.echo(f"Queued {len(queued)} mail(s) again.")


@mail_cli.command("purge-dead")
def purge_dead_command() -> None:
    """Delete dead letters older than MAIL_DEAD_LETTER_DAYS (run daily, e.g. from cron)."""
    removed = purge_dead_letters()
    db.session.commit()
    days = float(current_app.config["MAIL_DEAD_LETTER_DAYS"])
    click.echo(f"Deleted {removed} dead letter(s) older than {days:g} day(s).")
