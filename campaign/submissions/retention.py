"""What the erasure of an appeal's private details takes from its dossiers: the files of the
snapshots that hold private details (the submission edition, the signature sheets) and that no
submission records as handed in. A dossier handed in is the record of what the authority got
and stays; every snapshot's row stays, so that a copy anyone kept can still be checked.

A signer's withdrawal takes the files of the dossiers never handed in made since she was
counted, public editions too (her name may be in them). Connected to signatures.retention's
counting_private_data and erasing_private_data, and to signer_links' signature_withdrawing.
"""

from datetime import datetime
from functools import partial

from sqlalchemy import Select, func, select

from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.database import after_commit
from campaign.dossiers.models import DossierSnapshot, Edition
from campaign.dossiers.operations import snapshot_path
from campaign.extensions import db
from campaign.file_changes import remove_files
from campaign.submissions.models import Submission

# The editions that carry signers' private details.
PRIVATE_EDITIONS = (Edition.submission, Edition.sheets)


def _never_handed_in(
    appeal_id: int, editions: tuple[Edition, ...] = PRIVATE_EDITIONS
) -> Select[tuple[DossierSnapshot]]:
    handed_in = select(Submission.snapshot_id).where(Submission.appeal_id == appeal_id)
    return select(DossierSnapshot).where(
        DossierSnapshot.appeal_id == appeal_id,
        DossierSnapshot.edition.in_(editions),
        DossierSnapshot.file_erased_at.is_(None),
        DossierSnapshot.id.not_in(handed_in),
    )


def count_unsubmitted_files(_sender: object, *, appeal_id: int, **_extra: object) -> int:
    """How many files of the appeal's dossiers an erasure would delete."""
    query = _never_handed_in(appeal_id).with_only_columns(func.count(DossierSnapshot.id))
    return db.session.scalar(query) or 0


def erase_unsubmitted_files(_sender: object, *, appeal_id: int, **_extra: object) -> int:
    """Mark the files of the appeal's dossiers with private details never handed in as erased
    and delete them once the erasure commits; return how many."""
    return _erase(list(db.session.scalars(_never_handed_in(appeal_id))))


def erase_files_of_withdrawn(
    _sender: object, *, appeal_id: int, signed_at: datetime, **_extra: object
) -> int:
    """A signer withdrew: erase the files of the dossiers never handed in made since she was
    counted, of every edition (she may be in them: her name, and in the submission edition and
    the sheets her address and drawn signature), in her withdrawal's transaction, audited;
    return how many."""
    since = _never_handed_in(appeal_id, tuple(Edition)).where(
        DossierSnapshot.created_at >= signed_at
    )
    erased = _erase(list(db.session.scalars(since)))
    if erased:
        record_event(
            appeal_id,
            "dossier.files_erased",
            subject=("appeal", appeal_id),
            dossiers=erased,
            via="signer",
            reason="withdrawal",
        )
    return erased


def _erase(snapshots: list[DossierSnapshot]) -> int:
    if not snapshots:
        return 0
    now = utcnow()
    for snapshot in snapshots:
        snapshot.file_erased_at = now
    db.session.flush()
    after_commit(partial(remove_files, [snapshot_path(snapshot) for snapshot in snapshots]))
    return len(snapshots)
