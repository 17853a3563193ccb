"""`flask dossiers ...`: render dossiers and manage the signing certificate."""

import os
import stat
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.appeals.models import Appeal
from campaign.dossiers.models import Edition
from campaign.dossiers.operations import (
    NothingToRender,
    SignersWithdrew,
    discard_file,
    make_snapshot,
    snapshot_path,
)
from campaign.dossiers.signing import (
    SigningUnavailable,
    certificate_pem_path,
    make_development_certificate,
    signing_settings,
)
from campaign.extensions import db
from campaign.pdf_workers import RenderError

dossiers_cli = AppGroup("dossiers", help="PDF dossiers.")


@dossiers_cli.command("make-cert")
@click.option("--overwrite", is_flag=True, help="Replace an existing certificate file.")
def make_cert_command(overwrite: bool) -> None:
    """Create a self-signed certificate for signing dossiers in development."""
    try:
        settings = signing_settings(current_app.config)
        path = make_development_certificate(settings.path, settings.passphrase, overwrite=overwrite)
    except SigningUnavailable as error:
        raise click.ClickException(str(error)) from error
    except FileExistsError:
        raise click.ClickException(
            f"{settings.path} already exists; pass --overwrite to replace it."
        ) from None
    click.echo(f"Wrote the development signing certificate and key to {path}")
    pem = certificate_pem_path(path)
    click.echo(f"and the certificate alone to {pem}; check a signed dossier with:")
    click.echo(f"  pyhanko sign validate --no-revocation-check --trust-replace --trust {pem} FILE")
    click.echo(
        "Warning: this certificate is for development only; in production, set "
        "DOSSIER_SIGNING_CERT and DOSSIER_SIGNING_PASSPHRASE to a real certificate.",
        err=True,
    )


@dossiers_cli.command("render")
@click.argument("slug")
@click.option(
    "--edition",
    type=click.Choice([edition.value for edition in Edition]),
    default=Edition.submission.value,
    show_default=True,
)
@click.option("--landscape", is_flag=True, help="Lay the signatory table on landscape pages.")
@click.option("--sign", is_flag=True, help="Sign the PDF with the configured certificate.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Also copy it here."
)
def render_command(
    slug: str, edition: str, landscape: bool, sign: bool, output: Path | None
) -> None:
    """Render a dossier now, record it as a snapshot and print its fingerprints."""
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None:
        raise click.ClickException(f"No appeal with the address {slug!r}.")
    bar = click.progressbar(length=100, label="Rendering", file=sys.stderr)
    shown = {"percent": 0}

    def progress(percent: int) -> None:
        # Only on a terminal: a log or a pipe gets the summary alone.
        if sys.stderr.isatty() and percent > shown["percent"]:
            bar.update(percent - shown["percent"])
            shown["percent"] = percent

    started = time.perf_counter()
    try:
        snapshot = make_snapshot(
            appeal, Edition(edition), user=None, landscape=landscape, sign=sign, progress=progress
        )
    except NothingToRender:
        raise click.ClickException("The appeal has no published letter yet.") from None
    except SignersWithdrew:
        raise click.ClickException(
            "Signatures kept being withdrawn during the render; try again."
        ) from None
    except SigningUnavailable as error:
        raise click.ClickException(str(error)) from None
    except RenderError as error:
        raise click.ClickException(f"The render failed: {error}") from None
    finally:
        if shown["percent"]:
            bar.update(100 - shown["percent"])
            bar.render_finish()
    seconds = time.perf_counter() - started
    try:
        db.session.commit()
    except Exception:
        discard_file(snapshot)
        raise
    if output is not None:
        _write_private_copy(output, snapshot_path(snapshot).read_bytes())
    click.echo(f"snapshot        {snapshot.id}")
    click.echo(f"edition         {snapshot.edition.value}")
    click.echo(f"signatories     {snapshot.signature_count}")
    click.echo(f"pages           {snapshot.pages}")
    click.echo(f"seconds         {seconds:.1f}")
    click.echo(f"letter versions {', '.join(map(str, snapshot.versions))}")
    click.echo(f"list sha256     {snapshot.list_fingerprint}")
    click.echo(f"file sha256     {snapshot.file_sha256}")
    click.echo(f"file            {output or snapshot_path(snapshot)}")


def _write_private_copy(path: Path, data: bytes) -> None:
    """Write where asked (through a symlink, to a pipe), a new or regular file readable by this
    user only, like the snapshots: a submission holds private data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
        handle.write(data)
