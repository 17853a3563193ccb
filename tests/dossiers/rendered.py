"""A dossier rendered as the organiser's button makes it, read back from its file."""

from campaign.dossiers.models import DossierSnapshot, Edition
from campaign.dossiers.operations import make_snapshot, snapshot_path
from campaign.extensions import db


def render(appeal, edition=Edition.submission, **options) -> tuple[DossierSnapshot, bytes]:
    """Make a snapshot of the appeal's dossier; return it and its file's bytes."""
    snapshot = make_snapshot(appeal, edition, user=None, **options)
    db.session.commit()
    return snapshot, snapshot_path(snapshot).read_bytes()
