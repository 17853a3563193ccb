"""Paper signatures: entered one by one on the desk, and the scans of the signed sheets.

A paper signature counts like an online one, goes through the duplicate finder with them, and
is marked in the dossier. It has no withdrawal link (she signed in ink); an organiser removes
it by rejecting it.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from campaign.appeals.models import Appeal
from campaign.appeals.operations import count_signature
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.file_changes import FileChange
from campaign.pdf_pages import UnreadablePdf, count_pages
from campaign.private_files import private_folder
from campaign.signatures.contacts import contact_hash, email_identity, name_identity
from campaign.signatures.families import place_in_family
from campaign.signatures.models import (
    Signature,
    SignatureAnswer,
    SignatureImage,
    SignatureSource,
    SignatureStatus,
)
from campaign.signatures.operations import SignData
from campaign.signatures.signed_contacts import contact_has_signed
from campaign.time_zones import end_of_day

SCAN_MAX_BYTES = 20 * 1024 * 1024
# A scanned PDF is one sheet, or a few: more pages than this is not a sheet's scan (and each
# page becomes a page of the submission edition).
SCAN_MAX_PAGES = 50
SCAN_KINDS = {b"%PDF-": "pdf", b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
_SCAN_NAME = re.compile(r"sheet-(\d+)\.(pdf|jpg|png)\Z")


class NotPublished(Exception):
    """The appeal has no published version: there is nothing to sign yet."""


class SignedAlready(Exception):
    """The same name with the same email or phone has signed this appeal already."""


class UnknownScan(ValueError):
    """The scan cannot be kept; `code` says why: "size", "kind", or for a PDF "damaged",
    "encrypted", "empty" or "pages"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PaperPlace:
    """Where the ink is: the sheet's number and the line on it, and the day it was signed."""

    sheet: int | None
    line: int | None
    signed_on: date


def signed_at(day: date, zone: str) -> datetime:
    """Noon of the day in the appeal's zone, so that the day survives the trip to UTC and back;
    now, if that is later than now."""
    return min(end_of_day(day, zone) - timedelta(hours=12), utcnow())


def enter_paper_signature(appeal: Appeal, data: SignData, place: PaperPlace) -> Signature:
    """Store a signature given in ink, as valid and counted; flushed, audited, not committed.

    Raise SignedAlready if her name with her email or phone has signed (online or on paper).
    """
    if appeal.latest_version is None:
        raise NotPublished
    name = name_identity(data.surname, data.given_name, data.patronymic)
    email_hash = contact_hash("email", email_identity(data.email), name) if data.email else None
    phone_hash = contact_hash("phone", data.phone, name) if data.phone else None
    if contact_has_signed(appeal.id, email_hash, phone_hash):
        raise SignedAlready
    now = utcnow()
    signature = Signature(
        appeal_id=appeal.id,
        version_id=appeal.latest_version.id,
        status=SignatureStatus.valid,
        source=SignatureSource.paper,
        sheet=place.sheet,
        line=place.line,
        created_at=signed_at(place.signed_on, appeal.time_zone),
        confirmed_at=now,
        surname=data.surname,
        given_name=data.given_name,
        patronymic=data.patronymic,
        region=data.region,
        region_other=data.region_other,
        town=data.town,
        relationship_=data.relationship,
        relative_name=data.relative_name,
        relative_location=data.relative_location,
        children=data.children,
        helper_name=data.helper_name or None,
        display=data.display,
        email=data.email or None,
        phone=data.phone or None,
        postal_address=data.postal_address or None,
        email_hash=email_hash,
        phone_hash=phone_hash,
        consent_at=now,
    )
    if data.image is not None:
        signature.image = SignatureImage(
            png=data.image.png, width=data.image.width, height=data.image.height
        )
    signature.answers = [
        SignatureAnswer(question_id=qid, value=value)
        for qid, value in data.answers.items()
        if value
    ]
    db.session.add(signature)
    db.session.flush()
    place_in_family(signature)
    count_signature(appeal.id, signature.region or "", +1)
    record_event(
        appeal.id,
        "signature.paper_entered",
        subject=("signature", signature.id),
        image=data.image is not None,
    )
    return signature


def paper_folder(kind: str, appeal_id: int) -> Path:
    """A private folder (0700) of the appeal's "scans" or "imports" (PAPER_FOLDER)."""
    return private_folder(Path(current_app.config["PAPER_FOLDER"]) / kind / str(appeal_id))


def scans_folder(appeal_id: int) -> Path:
    """The private folder of an appeal's scanned sheets."""
    return paper_folder("scans", appeal_id)


def scan_kind(data: bytes) -> str:
    """Return "pdf", "jpg" or "png" from a scan's first bytes; raise UnknownScan otherwise."""
    if len(data) > SCAN_MAX_BYTES:
        raise UnknownScan("size")
    for magic, kind in SCAN_KINDS.items():
        if data.startswith(magic):
            return kind
    raise UnknownScan("kind")


def scan_pages(source: bytes | Path) -> int:
    """Return the pages of a scanned PDF; raise UnknownScan if the dossier could not bind it
    (damaged, encrypted, empty, more than SCAN_MAX_PAGES pages)."""
    try:
        return count_pages(source, limit=SCAN_MAX_PAGES)
    except UnreadablePdf as refused:
        raise UnknownScan(refused.code) from None


def store_scan(appeal: Appeal, sheet: int, data: bytes) -> FileChange:
    """Keep the scan of a signed sheet (0600), replacing an earlier scan of that sheet;
    audited. A PDF must open, unencrypted, every page. The caller commits with the returned
    change (`commit_with`), which removes the earlier scan; raise OSError, with nothing
    changed, if the disk refuses the files."""
    kind = scan_kind(data)
    if kind == "pdf":
        scan_pages(data)
    change = FileChange()
    try:
        for earlier in stored_scans(appeal.id).get(sheet, []):
            change.set_aside(earlier)
        change.write(scans_folder(appeal.id) / f"sheet-{sheet}.{kind}", data)
        record_event(appeal.id, "sheets.scan_stored", subject=("appeal", appeal.id),
                     sheet=sheet, kind=kind)  # fmt: skip
    except BaseException:
        change.undo()
        raise
    return change


def delete_scan(appeal: Appeal, sheet: int) -> FileChange:
    """Take a sheet's scan out of the desk and the dossier and record its deletion (audited).
    The caller commits with the returned change (`commit_with`), which deletes the files.
    Raise LookupError if the sheet has none; OSError, with nothing changed, if the disk
    refuses."""
    change = FileChange()
    try:
        for path in stored_scans(appeal.id).get(sheet, []):
            change.set_aside(path)
        if not change.set_aside_files:
            raise LookupError(sheet)
        record_event(appeal.id, "sheets.scan_deleted", subject=("appeal", appeal.id), sheet=sheet)
    except BaseException:
        change.undo()
        raise
    return change


def _scans_folder_path(appeal_id: int) -> Path:
    return Path(current_app.config["PAPER_FOLDER"]) / "scans" / str(appeal_id)


def stored_scans(appeal_id: int) -> dict[int, list[Path]]:
    """Return the stored scans by sheet number."""
    found: dict[int, list[Path]] = {}
    folder = _scans_folder_path(appeal_id)
    if not folder.is_dir():  # looking makes no folder
        return found
    for path in sorted(folder.iterdir()):
        match = _SCAN_NAME.match(path.name)
        if match:
            found.setdefault(int(match.group(1)), []).append(path)
    return found


def scan_files(appeal_id: int) -> list[Path]:
    """Every file in the appeal's scans folder: its stored scans, and any that a change cut off
    by a crash set aside or half wrote (they hold signed sheets too)."""
    folder = _scans_folder_path(appeal_id)
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.is_file())


@dataclass(frozen=True)
class SheetState:
    """A sheet that paper signatures name: how many, and whether its scan is stored."""

    sheet: int
    rows: int
    scanned: bool


@dataclass(frozen=True)
class SheetsOverview:
    """Which sheets lack a scan, and which scans no paper signature names."""

    sheets: list[SheetState]
    scans_unnamed: list[int]  # sheets with a scan that no paper signature names
    rows_without_sheet: int  # paper signatures with no sheet number


def sheets_overview(appeal_id: int) -> SheetsOverview:
    """Compare the sheet numbers of the appeal's paper signatures with the stored scans."""
    counts = dict(
        db.session.execute(
            select(Signature.sheet, func.count())
            .where(Signature.appeal_id == appeal_id, Signature.source == SignatureSource.paper)
            .group_by(Signature.sheet)
        ).all()
    )
    rows_without_sheet = counts.pop(None, 0)
    scanned = stored_scans(appeal_id)
    return SheetsOverview(
        sheets=[SheetState(n, counts[n], n in scanned) for n in sorted(counts)],
        scans_unnamed=sorted(set(scanned) - set(counts)),
        rows_without_sheet=rows_without_sheet,
    )
