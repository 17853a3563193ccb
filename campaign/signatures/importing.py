"""Import paper signatures from a CSV or XLSX table: every valid row in one go, or none.

The file is read twice, streamed: once to check every row (import_checking; the checked rows
wait in a temporary file, not in memory), once to store them, many rows a statement, in the
caller's transaction.
"""

import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from typing import IO, Any

from sqlalchemy import insert

from campaign.appeals.models import Appeal
from campaign.appeals.operations import count_signature
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.families import place_unlinked
from campaign.signatures.import_checking import ImportReport, check_table
from campaign.signatures.import_columns import ImportRefused
from campaign.signatures.models import Display, Signature, SignatureAnswer, SignatureStatus
from campaign.signatures.name_words import index_new_signatures, last_signature_id
from campaign.signatures.names import fold_name
from campaign.signatures.paper import signed_at

# Rows stored per statement.
_BATCH = 1000


def import_table(
    appeal: Appeal,
    stream: IO[bytes],
    mapping: dict[int, str],
    *,
    dry_run: bool = False,
    file_format: str = "csv",
    progress: Callable[[int], None] | None = None,
    actor_id: int | None = None,
    actor_deleted: bool = False,
    via: str | None = None,
) -> ImportReport:
    """Check every row, then store them all as valid paper signatures (flushed, not
    committed), or none if any row has an error (or on a dry run). The caller commits.

    `actor_id` and `via` name who asked, for the audit event, when a job imports
    (`actor_deleted` if she has deleted her account since she asked).
    """
    if appeal.latest_version is None:
        raise ImportRefused("unpublished")
    with tempfile.TemporaryFile() as spool:
        report = check_table(appeal, stream, mapping, progress=progress, spool=spool)
        if report.error_count or dry_run or not report.rows:
            return report
        spool.seek(0)
        report.stored = _store(appeal, _spooled(spool))
    record_event(
        appeal.id,
        "signatures.imported",
        subject=("appeal", appeal.id),
        actor_id=actor_id,
        actor_deleted=actor_deleted,
        via=via,
        rows=report.stored,
        format=file_format,
    )
    return report


def _spooled(spool: IO[bytes]) -> Iterator[dict[str, Any]]:
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301 (our own file, written just now)
        except EOFError:
            return


def _store(appeal: Appeal, rows: Iterator[dict[str, Any]]) -> int:
    now = utcnow()
    last_before = last_signature_id()
    version_id = appeal.latest_version.id
    tallies: Counter[str] = Counter()
    keys: set[str] = set()
    stored = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        answers = [row.pop("answers") for row in batch]
        if not any(answers):
            # The table's insert, many rows a statement. The ORM's, and RETURNING in order on
            # SQLite (no sentinel column), insert row by row: several times slower, so only
            # when answers need the ids.
            table = Signature.__table__
            rows = [{**row, "relationship": row.pop("relationship_")} for row in batch]
            db.session.execute(insert(table), rows)
            batch.clear()
            return
        ids = list(
            db.session.scalars(
                insert(Signature).returning(Signature.id, sort_by_parameter_order=True), batch
            )
        )
        given = [
            {"signature_id": signature_id, "question_id": qid, "value": value}
            for signature_id, answered in zip(ids, answers, strict=True)
            for qid, value in answered.items()
        ]
        if given:
            db.session.execute(insert(SignatureAnswer), given)
        batch.clear()

    for row in rows:
        day = row.pop("signed_on")
        del row["_line"]
        key = fold_name(row["relative_name"])
        if key:
            keys.add(key)
        tallies[row["region"]] += 1
        batch.append(
            row
            | {
                "appeal_id": appeal.id,
                "version_id": version_id,
                "status": SignatureStatus.valid,
                "created_at": signed_at(day, appeal.time_zone),
                "confirmed_at": now,
                "display": Display.initials,
                "relative_key": key,
                # The desk's search key: a batch insert runs no ORM event (models.py).
                "name_key": fold_name(
                    row["surname"], row["given_name"], row.get("patronymic") or ""
                )[:320],
            }
        )
        stored += 1
        if len(batch) >= _BATCH:
            flush()
    if batch:
        flush()
    # The bulk inserts run no ORM event: the search's word index is filled here.
    index_new_signatures(appeal.id, after_id=last_before)
    for region, count in tallies.items():
        count_signature(appeal.id, region, count)
    ordered = sorted(keys)
    for start in range(0, len(ordered), _BATCH):
        place_unlinked(appeal.id, set(ordered[start : start + _BATCH]))
    db.session.flush()
    return stored
