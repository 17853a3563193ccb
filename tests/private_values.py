"""Distinctive values planted in every private field of a signature, and where to look for them."""

from pathlib import Path

from sqlalchemy import select, text

from campaign.extensions import db
from campaign.signatures.images import clean_png
from campaign.signatures.models import (
    Display,
    FieldMode,
    QuestionKind,
    Signature,
    SignatureAnswer,
)
from campaign.signatures.operations import SignData, sign_appeal
from campaign.signatures.settings import (
    QuestionData,
    SettingsData,
    save_sign_form_settings,
    sign_form_settings,
)
from tests.conftest import signature_png

EMAIL = "planted-mailbox-qx81@example.org"
PHONE = "+79285558181"
POSTAL_ADDRESS = "Planted-Street-Wq77, flat 9, Grozny"
HELPER = "Planted-Helper-Zu93"
PRIVATE_ANSWER = "Planted-Private-Answer-Kj42"
PUBLIC_ANSWER = "An answer for everyone"


def ask_everything(appeal: object) -> tuple[int, int]:
    """Ask phone and postal address too, and a private and a public question; return the ids
    of the two questions."""
    settings = sign_form_settings(appeal)
    modes = {name: FieldMode(mode) for name, mode in settings.fields.items()}
    modes.update(phone=FieldMode.optional, postal_address=FieldMode.optional)
    save_sign_form_settings(
        appeal,
        SettingsData(
            modes=modes,
            regions=None,
            relationships=settings.relationships,
            confirm_email=False,
            consent_text="",
            questions=[
                QuestionData("Private question", QuestionKind.text.value, [], True, False),
                QuestionData("Public question", QuestionKind.text.value, [], False, False),
            ],
        ),
        seen_revision=settings.revision,
    )
    db.session.commit()
    private, public = sign_form_settings(appeal).questions
    return private.id, public.id


def plant(appeal: object, n: int = 1, **overrides: object) -> Signature:
    """Sign with a distinctive value in every private field (numbered n), through the
    operation; the appeal must ask_everything() first."""
    private_q, public_q = (q.id for q in sign_form_settings(appeal).questions)
    values = {
        "surname": f"Naloeva-{n}",
        "given_name": "Madina",
        "region": "RU-CE",
        "relationship": "mother",
        "email": EMAIL.replace("qx81", f"qx81-{n}"),
        "phone": f"{PHONE[:-2]}{n:02d}",
        "postal_address": f"{POSTAL_ADDRESS} {n}",
        "helper_name": f"{HELPER}-{n}",
        "image": clean_png(signature_png(1000 + n)),
        "display": Display.full,
        "answers": {private_q: f"{PRIVATE_ANSWER}-{n}", public_q: PUBLIC_ANSWER},
        "private_questions": frozenset({private_q}),
    }
    values.update(overrides)
    outcome = sign_appeal(appeal, SignData(**values), consent="Consent", confirm_within=None)
    db.session.commit()
    return outcome.signature


def private_values(signature: Signature) -> dict[str, object]:
    """Read every private field of a signature as the application sees it (opened)."""
    answers = db.session.scalars(
        select(SignatureAnswer)
        .where(SignatureAnswer.signature_id == signature.id)
        .order_by(SignatureAnswer.question_id)
    ).all()
    return {
        "email": signature.email,
        "phone": signature.phone,
        "postal_address": signature.postal_address,
        "helper_name": signature.helper_name,
        "png": signature.image.png if signature.image else None,
        "answers": [answer.value for answer in answers],
    }


def needles(values: dict[str, object]) -> dict[str, bytes]:
    """The byte strings a search of the database files must not find, for these values: each
    text whole, the mailbox of an email, the digits of a phone number, a slice of an image."""
    found: dict[str, bytes] = {}

    def add(name: str, value: object) -> None:
        if isinstance(value, bytes):
            middle = len(value) // 2
            found[name] = value[middle : middle + 48]  # inside the compressed image data
        elif isinstance(value, str):
            found[name] = value.encode()
            if "@" in value:
                found[f"{name} (mailbox)"] = value.split("@")[0].encode()
            if value.startswith("+") and value[1:].isdigit():
                found[f"{name} (digits)"] = value[1:].encode()
        elif isinstance(value, list):
            for index, item in enumerate(value):
                add(f"{name}[{index}]", item)

    for name, value in values.items():
        add(name, value)
    return found


def database_files() -> dict[str, bytes]:
    """Read every file of the test's database as stored on disk.

    SQLite: the database file, its write-ahead log and its index. PostgreSQL: every file of
    the database's folder (tables, their TOAST tables and indexes), after a checkpoint has
    written the pages held in memory (the test role is a superuser).
    """
    engine = db.engine
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        files = [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))]
        return {file.name: file.read_bytes() for file in files if file.exists()}
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
        folder = connection.scalar(
            text("SELECT 'base/' || oid::text FROM pg_database WHERE datname = current_database()")
        )
        rows = connection.execute(
            text(
                "SELECT name, pg_read_binary_file(path, 0, (pg_stat_file(path, true)).size, true) "
                "FROM (SELECT name, CAST(:folder AS text) || '/' || name AS path "
                "FROM pg_ls_dir(CAST(:folder AS text)) AS name) AS found"
            ),
            {"folder": folder},
        )
        files = {name: bytes(data) for name, data in rows if data is not None}
        return files


def found_in_files(values: dict[str, object]) -> list[tuple[str, str]]:
    """Return (what, which file) for every planted value found in the database's files."""
    files = database_files()
    assert files, "no database file read"
    return [
        (what, name)
        for what, needle in needles(values).items()
        for name, data in files.items()
        if needle in data
    ]
