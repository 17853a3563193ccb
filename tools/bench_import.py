"""Benchmark the import of paper signatures: time and peak memory at 10,000 and 100,000 rows.

For each N (IMPORT_BENCH_SIZES, default 10000,100000) it writes a CSV of N fictional
signatories (campaign.demo_signatories: names of the North Caucasus; one in three with an
email, one in four with a phone; dates, sheets and lines) with the export's column names, and
imports it into a fresh SQLite database of the demo appeal with `flask signatures import`'s
operation, in a fresh process: first a dry run (every row checked, nothing stored), then the
import (checked again, then stored in one transaction). It prints the seconds of each and the
process's peak resident memory, which should stay about flat from 10,000 to 100,000 rows: the
file is streamed, and checked rows wait in a temporary file, not in memory.
"""

import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [int(n) for n in os.environ.get("IMPORT_BENCH_SIZES", "10000,100000").split(",")]
HEADER = [
    "surname", "given_name", "patronymic", "region", "town", "relationship", "relative_name",
    "relative_location", "children", "email", "phone", "postal_address", "signed_on",
    "source", "sheet", "line",
]  # fmt: skip


def write_table(path: Path, count: int) -> None:
    """Write N fictional paper signatures as a CSV with the export's column names."""
    from campaign.demo_signatories import fictional_signatories

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n, person in enumerate(fictional_signatories(count)):
            writer.writerow(
                [
                    person.surname,
                    person.given_name,
                    person.patronymic,
                    person.region,
                    person.town,
                    person.relationship,
                    person.relative_name,
                    person.relative_location,
                    "" if person.children is None else person.children,
                    f"signer{n}@example.org" if n % 3 == 0 else "",
                    f"+7928{n:07d}" if n % 4 == 0 else "",
                    "",
                    f"2026-11-{1 + n % 28:02d}",
                    "paper",
                    1 + n // 10,
                    1 + n % 10,
                ]
            )


def run(database: str, table: str) -> None:
    """Create the appeal, then time a dry run and the import of the table in this process."""
    import resource
    import time

    from flask_migrate import upgrade

    from campaign import create_app
    from campaign.accounts.models import User
    from campaign.appeals.operations import AddresseeData, AppealData, create_appeal, publish_appeal
    from campaign.extensions import db
    from campaign.signatures.import_columns import mapping_from_header, read_header
    from campaign.signatures.importing import import_table

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        # No one logs in as the bench's organiser: the hash is not a password hash.
        user = User(name="Bench", email="bench@example.org", password_hash="-", language="ru")  # noqa: S106
        db.session.add(user)
        db.session.flush()
        appeal = create_appeal(
            user,
            AppealData(
                title="Bench",
                language="ru",
                country="RU",
                addressees=(AddresseeData("Президенту", "Администрация"),),
                body="Текст",
                closing="С уважением",
            ),
        )
        publish_appeal(appeal, user, seen_revision=appeal.draft_revision)
        db.session.commit()
        with open(table, "rb") as stream:
            mapping = mapping_from_header(appeal, read_header(stream))
            for dry_run in (True, False):
                stream.seek(0)
                started = time.perf_counter()
                report = import_table(appeal, stream, mapping, dry_run=dry_run)
                if not dry_run:
                    db.session.commit()
                elapsed = time.perf_counter() - started
                what = "dry run" if dry_run else "import"
                print(
                    f"  {what:<8} {elapsed:7.2f} s  {report.rows:,} rows, "
                    f"{report.error_count:,} errors, {report.stored:,} stored"
                )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak memory {peak:,.0f} MB")


def main() -> None:
    """Write a table and import it into a fresh database per size, each in a fresh process."""
    sys.path.insert(0, str(ROOT))
    for count in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            table = Path(folder) / "paper.csv"
            write_table(table, count)
            size = table.stat().st_size / (1024 * 1024)
            print(f"N = {count:,} ({size:.1f} MB):", flush=True)
            database = f"sqlite:///{folder}/bench.sqlite"
            subprocess.run([sys.executable, __file__, "run", database, str(table)], check=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 1:
        main()
    else:
        run(sys.argv[2], sys.argv[3])
