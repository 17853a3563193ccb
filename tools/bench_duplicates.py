"""Benchmark the duplicate finder (and recomputing the families) at 20,000 and 100,000.

For each N (DUPLICATES_BENCH_SIZES, default 20000,100000) it fills a throw-away SQLite
database with N fictional signatories of the demo appeal (campaign.demo_signatories: names of
the North Caucasus, many of them shared), one in fifty of whom signed a second time under a
Latin spelling of her name with the same email, region and relative; two in three gave an
email, one in four a phone. Then, on one core (the process is pinned to CPU 0), it times
`find_pairs` (reading the signatures, folding, blocking, scoring) and `recompute_families`,
each in a fresh process, and prints the seconds and what they found. Goals (issue 23): 20,000
signatures in under 5 s, 100,000 in under 30 s.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [int(n) for n in os.environ.get("DUPLICATES_BENCH_SIZES", "20000,100000").split(",")]
RESIGN_EVERY = 50


def fill(database: str, count: int) -> None:
    """Create the appeal and its N fictional signatures (plus Latin re-signers)."""
    from anyascii import anyascii
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from campaign import create_app
    from campaign.accounts.models import User
    from campaign.appeals.operations import AddresseeData, AppealData, create_appeal, publish_appeal
    from campaign.clock import utcnow
    from campaign.demo_signatories import fictional_signatories
    from campaign.extensions import db
    from campaign.signatures.models import Signature, SignatureStatus

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
        version = publish_appeal(appeal, user, seen_revision=appeal.draft_revision)
        now = utcnow()
        rows = []
        for n, person in enumerate(fictional_signatories(count)):
            row = {
                "appeal_id": appeal.id,
                "version_id": version.id,
                "status": SignatureStatus.valid,
                "created_at": now - person.age,
                "surname": person.surname,
                "given_name": person.given_name,
                "patronymic": person.patronymic,
                "region": person.region,
                "town": person.town,
                "relationship": person.relationship,
                "relative_name": person.relative_name,
                "relative_location": person.relative_location,
                "children": person.children,
                "display": person.display,
                "email": f"signer{n}@example.org" if n % 3 else None,
                "phone": f"+7928{n:07d}" if n % 4 == 0 else None,
            }
            rows.append(row)
            if n % RESIGN_EVERY == 0:
                rows.append(
                    {
                        **row,
                        "surname": anyascii(person.surname),
                        "given_name": anyascii(person.given_name),
                        "patronymic": "",
                        "relative_name": anyascii(person.relative_name),
                        "email": f"signer{n}@example.org",
                        "created_at": now,
                    }
                )
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Signature.__table__), rows[start : start + 5000])
        db.session.commit()
        print(f"{len(rows):,} signatures ({count:,} signers, {len(rows) - count:,} again)")


def run(database: str, what: str) -> None:
    """Time one step in this (fresh) process, pinned to one core."""
    import time

    from sqlalchemy import func, select

    from campaign import create_app
    from campaign.extensions import db
    from campaign.signatures.duplicates import find_pairs
    from campaign.signatures.families import recompute_families
    from campaign.signatures.models import Signature

    os.sched_setaffinity(0, {0})
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench"})
    with app.app_context():
        started = time.perf_counter()
        if what == "duplicates":
            pairs = find_pairs(1)
            elapsed = time.perf_counter() - started
            # The re-signers gave the address of their first signature: are they all found?
            emails = dict(db.session.execute(select(Signature.id, Signature.email)).all())
            twice = (
                select(Signature.email)
                .where(Signature.email.is_not(None))
                .group_by(Signature.email)
                .having(func.count() > 1)
            )
            expected = db.session.scalar(select(func.count()).select_from(twice.subquery()))
            again = sum(
                1 for p in pairs if emails[p.first_id] and emails[p.first_id] == emails[p.second_id]
            )
            print(
                f"{what:<10} {elapsed:6.2f} s  {len(pairs):,} pairs at or above "
                f"{app.config['DUPLICATE_THRESHOLD']}; {again:,} of the {expected:,} "
                "signers who signed again in Latin letters found"
            )
            return
        result = recompute_families(1)
        db.session.commit()
        print(f"{what:<10} {time.perf_counter() - started:6.2f} s  {result.families:,} families")


def main() -> None:
    """Fill a database per size and time each step in a fresh process."""
    for count in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            database = f"sqlite:///{folder}/bench.sqlite"
            print(f"N = {count:,}: ", end="", flush=True)
            subprocess.run([sys.executable, __file__, "fill", database, str(count)], check=True)
            for what in ("duplicates", "families"):
                subprocess.run([sys.executable, __file__, "run", database, what], check=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 1:
        main()
    elif sys.argv[1] == "fill":
        fill(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[2], sys.argv[3])
