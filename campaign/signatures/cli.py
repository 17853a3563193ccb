"""`flask signatures ...`: maintenance of signatures from the command line."""

import click
from flask.cli import AppGroup

from campaign.extensions import db
from campaign.signatures.operations import purge_pending

signatures_cli = AppGroup("signatures", help="Signatures.")


@signatures_cli.command("purge-pending")
def purge_pending_command() -> None:
    """Delete signatures whose email confirmation expired unused (run daily, e.g. from cron)."""
    removed = purge_pending()
    db.session.commit()
    click.echo(f"Purged {removed} unconfirmed signature(s).")
