"""`flask signatures ...`: maintenance of signatures from the command line."""

import json
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.private_files import write_private
from campaign.signatures.decoys import purge_decoys
from campaign.signatures.duplicates import find_pairs, threshold
from campaign.signatures.exporting import FORMATS, available_columns, export_table
from campaign.signatures.families import recompute_families
from campaign.signatures.import_columns import (
    MAX_BYTES,
    ImportRefused,
    count_rows,
    mapping_from_header,
    mapping_from_names,
    read_header,
)
from campaign.signatures.import_uploads import purge_uploads
from campaign.signatures.importing import import_table
from campaign.signatures.models import Signature
from campaign.signatures.retention import (
    appeals_due_for_erasure,
    erase_private_data,
    retention_months,
)
from campaign.signatures.signer_links import purge_pending
from campaign.signatures.spreadsheets import UnreadableTable

signatures_cli = AppGroup("signatures", help="Signatures.")


@signatures_cli.command("purge-pending")
def purge_pending_command() -> None:
    """Delete signatures whose email confirmation expired unused (run daily, e.g. from cron)."""
    now = utcnow()
    removed = purge_pending(now=now)
    purge_decoys(now=now)  # the links of repeats, which expire with them (signatures.decoys)
    db.session.commit()
    click.echo(f"Purged {removed} unconfirmed signature(s).")


@signatures_cli.command("purge-private")
def purge_private_command() -> None:
    """Erase signatories' private details where an appeal ended more than
    PRIVATE_DATA_RETENTION_MONTHS ago (run daily, e.g. from cron)."""
    erased = 0
    for appeal in appeals_due_for_erasure():
        appeal_id = appeal.id
        done = erase_private_data(appeal, reason="retention")
        db.session.commit()  # appeal by appeal: an interruption keeps what is done
        if done:
            erased += 1
            click.echo(
                f"Appeal {appeal_id}: private details of {done.signatures} signature(s) "
                f"and {done.scans} sheet scan(s) erased; {done.mails} unsent mail(s) and "
                f"{done.dossiers} dossier file(s) never handed in deleted."
            )
    click.echo(
        f"Private details erased in {erased} appeal(s) ended more than "
        f"{retention_months()} month(s) ago."
    )


@signatures_cli.command("purge-uploads")
def purge_uploads_command() -> None:
    """Delete tables uploaded for import more than IMPORT_UPLOAD_MAX_AGE seconds ago and never
    imported (run daily, e.g. from cron)."""
    max_age = timedelta(seconds=float(current_app.config["IMPORT_UPLOAD_MAX_AGE"]))
    removed = purge_uploads(max_age)
    db.session.commit()
    click.echo(f"Deleted {removed} uploaded table(s) older than {max_age} and never imported.")


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


_REFUSALS = {
    "encoding": "The file is neither UTF-8 (with or without BOM) nor cp1251 text.",
    "format": "The file is not a CSV or XLSX table.",
    "empty": "The file holds no table.",
    "columns": "Required columns missing: {detail}.",
    "mapping": "The mapping names what the table does not have: {detail}.",
    "unpublished": "The appeal is not published: nothing can be signed yet.",
    "size": "The file is larger than 50 MB.",
}


@signatures_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_json", help='Columns as {"header": "field", ...} (JSON).')
@click.option("--dry-run", is_flag=True, help="Check every row; store nothing.")
def import_command(slug: str, file: Path, mapping_json: str | None, dry_run: bool) -> None:
    """Import paper signatures from a CSV or XLSX table: every row, or none on any error.

    Without --mapping the header must use the export's column names (surname, given_name, ...).
    """
    appeal = _appeal(slug)
    if file.stat().st_size > MAX_BYTES:
        raise click.ClickException(_REFUSALS["size"])
    try:
        chosen = json.loads(mapping_json) if mapping_json else None
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"--mapping is not JSON: {exc}") from None
    if chosen is not None and not isinstance(chosen, dict):
        raise click.ClickException('--mapping must be an object: {"header": "field"}.')
    with file.open("rb") as stream:
        try:
            header = read_header(stream)
            mapping = (
                mapping_from_names(appeal, header, chosen)
                if chosen
                else mapping_from_header(appeal, header)
            )
            total = count_rows(stream)
            with click.progressbar(length=total, label="Checking rows", file=sys.stderr) as bar:
                report = import_table(
                    appeal,
                    stream,
                    mapping,
                    dry_run=dry_run,
                    file_format="xlsx" if file.suffix.lower() == ".xlsx" else "csv",
                    progress=bar.update,
                )
        except (ImportRefused, UnreadableTable) as refused:
            db.session.rollback()
            detail = getattr(refused, "detail", "")
            raise click.ClickException(_REFUSALS[refused.code].format(detail=detail)) from None
    if report.error_count:
        db.session.rollback()
        for error in report.errors:
            click.echo(f"line {error.line}, {error.field}: {error.message}", err=True)
        more = report.error_count - len(report.errors)
        if more:
            click.echo(f"... and {more} more error(s).", err=True)
        raise click.ClickException(
            f"{report.invalid_rows} of {report.rows} row(s) have errors: nothing was imported."
        )
    if dry_run:
        db.session.rollback()
        click.echo(f"{report.rows} row(s) checked, all valid; nothing stored (--dry-run).")
        return
    db.session.commit()
    click.echo(f"Imported {report.stored} paper signature(s).")


@signatures_cli.command("export")
@click.argument("slug")
@click.option("--format", "file_format", type=click.Choice(FORMATS), default="csv")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--bom", is_flag=True, help="Start a CSV with a byte order mark (for Excel).")
def export_command(slug: str, file_format: str, output: Path, bom: bool) -> None:
    """Export every signature of an appeal (private columns included) to a private file."""
    appeal = _appeal(slug)
    columns = available_columns(appeal, private=True)
    data, count = export_table(appeal, columns, file_format, bom=bom)
    write_private(output, data)
    record_event(
        appeal.id, "signatures.exported", subject=("appeal", appeal.id), rows=count,
        format=file_format, private=True,
    )  # fmt: skip
    db.session.commit()
    click.echo(f"Exported {count} signature(s) to {output}.")
