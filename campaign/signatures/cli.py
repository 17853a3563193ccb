"""`flask signatures ...`: maintenance of signatures from the command line."""

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.extensions import db
from campaign.signatures.duplicates import find_pairs, threshold
from campaign.signatures.families import recompute_families
from campaign.signatures.models import Signature
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


def _appeal(slug: str) -> Appeal:
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None:
        raise click.ClickException(f"No appeal with the address {slug!r}.")
    return appeal


def _name(signature: Signature) -> str:
    return " ".join(p for p in (signature.surname, signature.given_name, signature.patronymic) if p)


@signatures_cli.command("duplicates")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as JSON.")
def duplicates_command(slug: str, as_json: bool) -> None:
    """List the pairs of signatures that may be one signer, highest score first.

    Pairs scoring at least the desk's threshold (DUPLICATE_THRESHOLD); names only, never an
    email, a phone or an address.
    """
    appeal = _appeal(slug)
    pairs = find_pairs(appeal.id)
    ids = sorted({i for pair in pairs for i in (pair.first_id, pair.second_id)})
    names = (
        {
            row.id: _name(row)
            for row in db.session.execute(
                select(
                    Signature.id, Signature.surname, Signature.given_name, Signature.patronymic
                ).where(Signature.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    if as_json:
        listed = [
            {
                "a": {"id": pair.first_id, "name": names[pair.first_id]},
                "b": {"id": pair.second_id, "name": names[pair.second_id]},
                "score": pair.score,
                "agree": list(pair.agree),
            }
            for pair in pairs
        ]
        click.echo(json.dumps({"pairs": listed}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{len(pairs)} pair(s) scoring {threshold()} or more.")
    for pair in pairs:
        click.echo(
            f"{pair.score:3d}  {pair.first_id}: {names[pair.first_id]}  /  "
            f"{pair.second_id}: {names[pair.second_id]}  ({', '.join(pair.agree) or '-'})"
        )


@signatures_cli.command("families")
@click.argument("slug")
def families_command(slug: str) -> None:
    """Recompute an appeal's families (organisers' merges and splits stay)."""
    appeal = _appeal(slug)
    result = recompute_families(appeal.id)
    record_event(
        appeal.id,
        "families.recomputed",
        subject=("appeal", appeal.id),
        families=result.families,
        moved=result.moved,
    )
    db.session.commit()
    click.echo(f"{result.families} families; {result.moved} signature(s) moved.")
