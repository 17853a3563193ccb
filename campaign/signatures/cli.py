"""`flask signatures ...`: maintenance of signatures from the command line."""

import click
from flask.cli import AppGroup

from campaign.extensions import db
from campaign.signatures.operations import purge_pending
from campaign.signatures.retention import (
    appeals_due_for_erasure,
    erase_private_data,
    retention_months,
)

signatures_cli = AppGroup("signatures", help="Signatures.")


@signatures_cli.command("purge-pending")
def purge_pending_command() -> None:
    """Delete signatures whose email confirmation expired unused (run daily, e.g. from cron)."""
    removed = purge_pending()
    db.session.commit()
    click.echo(f"Purged {removed} unconfirmed signature(s).")


@signatures_cli.command("purge-private")
def purge_private_command() -> None:
    """Erase signatories' private details where an appeal ended more than
    PRIVATE_DATA_RETENTION_MONTHS ago (run daily, e.g. from cron)."""
    erased = 0
    for appeal in appeals_due_for_erasure():
        appeal_id = appeal.id
        count = erase_private_data(appeal, reason="retention")
        db.session.commit()  # appeal by appeal: an interruption keeps what is done
        if count:
            erased += 1
            click.echo(f"Appeal {appeal_id}: private details of {count} signature(s) erased.")
    click.echo(
        f"Private details erased in {erased} appeal(s) ended more than "
        f"{retention_months()} month(s) ago."
    )
