"""`flask dossiers render`: a snapshot made from the command line."""

import hashlib

from campaign.dossiers.models import DossierSnapshot
from campaign.extensions import db
from tests.dossiers.pdftools import attachments, flat, page_texts


def test_render_writes_the_file_and_prints_the_fingerprints(
    runner, open_appeal, make_signature, tmp_path
):
    make_signature(open_appeal, surname="Командная", postal_address="ул. Тайная, 7")
    output = tmp_path / "public.pdf"
    output.write_bytes(b"an older copy, readable by all")
    output.chmod(0o644)
    result = runner.invoke(
        args=["dossiers", "render", open_appeal.slug, "--edition", "public", "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    snapshot = db.session.scalars(db.select(DossierSnapshot)).one()
    data = output.read_bytes()
    assert f"snapshot        {snapshot.id}" in result.output
    assert f"list sha256     {snapshot.list_fingerprint}" in result.output
    assert f"file sha256     {hashlib.sha256(data).hexdigest()}" in result.output
    assert "Rendering" not in result.output  # no progress bar when not on a terminal
    text = flat(" ".join(page_texts(data)))
    assert "Командная" in text and "ул. Тайная" not in text
    assert "ул. Тайная" not in attachments(data)["signatories.csv"].decode()
    assert output.stat().st_mode & 0o077 == 0  # for its owner only, whatever it was before

    # Through a symbolic link, the file it points to is written.
    target, link = tmp_path / "target.pdf", tmp_path / "link.pdf"
    link.symlink_to(target)
    args = ["dossiers", "render", open_appeal.slug, "--edition", "public", "-o", str(link)]
    assert runner.invoke(args=args).exit_code == 0
    assert link.is_symlink() and target.read_bytes().startswith(b"%PDF")


def test_render_refuses_an_unknown_appeal_or_a_draft(runner, make_appeal):
    result = runner.invoke(args=["dossiers", "render", "no-such-appeal"])
    assert result.exit_code != 0 and "No appeal with the address 'no-such-appeal'" in result.output
    draft = make_appeal()
    result = runner.invoke(args=["dossiers", "render", draft.slug])
    assert result.exit_code != 0 and "no published letter" in result.output
    assert db.session.query(DossierSnapshot).count() == 0


def test_render_refuses_an_unknown_edition(runner, open_appeal):
    result = runner.invoke(args=["dossiers", "render", open_appeal.slug, "--edition", "all"])
    assert result.exit_code == 2 and "'all' is not one of" in result.output


def test_render_says_when_signers_kept_withdrawing(runner, open_appeal, monkeypatch):
    from campaign.dossiers import cli, operations

    def withdrawn(*_args, **_options):
        raise operations.SignersWithdrew

    monkeypatch.setattr(cli, "make_snapshot", withdrawn)
    result = runner.invoke(args=["dossiers", "render", open_appeal.slug])
    assert result.exit_code == 1
    assert "Signatures kept being withdrawn during the render; try again." in result.output
    assert db.session.query(DossierSnapshot).count() == 0
