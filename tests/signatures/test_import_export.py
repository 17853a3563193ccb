"""Import and export of signatures from the command line: the round trip and bad tables."""

import io
import json

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func, select

from campaign.appeals.models import SignatureTally
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.signatures.exporting import available_columns, export_table
from campaign.signatures.import_columns import MAX_BYTES
from campaign.signatures.models import Signature, SignatureSource, SignatureStatus
from campaign.signatures.names import fold_name
from campaign.signatures.spreadsheets import write_csv

HEADER = (
    "surname,given_name,patronymic,region,town,relationship,relative_name,relative_location,"
    "children,email,phone,postal_address,signed_on,source,sheet,line"
)


def _rows(*lines: str, header: str = HEADER) -> str:
    return "\n".join((header, *lines)) + "\n"


def _count(appeal) -> int:
    return db.session.scalar(
        select(func.count(Signature.id)).where(Signature.appeal_id == appeal.id)
    )


@pytest.fixture
def table(tmp_path):
    """Write a table to a file; return its path."""

    def write(text: str | bytes, name: str = "sheet.csv", encoding: str = "utf-8"):
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return write


def _import(runner, appeal, path, *args):
    return runner.invoke(args=["signatures", "import", appeal.slug, str(path), *args])


# The command line speaks the default language (BABEL_DEFAULT_LOCALE: Russian).


def test_import_paper_rows_counted_and_marked(runner, open_appeal, table):
    path = table(
        _rows(
            "Налоева,Мадина,Руслановна,RU-CE,Грозный,мать,Ислам Налоев,Багдад,2,"
            "m@example.org,+79281234567,г. Грозный,2026-11-30,,3,1",
            "Aliyeva,Aisha,,Республика Дагестан,Makhachkala,mother,Said Aliyev,Erbil,,,,,,,3,2",
            "Хасанова,Айша,,Kabardino-Balkarian Republic,,мать,,,,,,,,,,",
            "بن علي,فاطمة,,RU-IN,,мать,,,,,,,,,,",
        )
    )
    result = _import(runner, open_appeal, path)
    assert result.exit_code == 0, result.output
    assert "Imported 4" in result.output
    rows = db.session.scalars(select(Signature).order_by(Signature.id)).all()
    assert [r.source for r in rows] == [SignatureSource.paper] * 4
    assert [r.status for r in rows] == [SignatureStatus.valid] * 4
    assert [r.region for r in rows] == ["RU-CE", "RU-DA", "RU-KB", "RU-IN"]
    assert rows[0].phone == "+79281234567" and rows[0].email == "m@example.org"
    assert (rows[0].sheet, rows[0].line) == (3, 1)
    assert rows[0].created_at.date().isoformat() == "2026-11-30"
    assert rows[3].surname == "بن علي"
    assert rows[0].person_concerned_id is not None
    # The desk's search finds them as it finds signatures made online ("naloeva", "Айша").
    assert [r.name_key for r in rows] == [
        fold_name(r.surname, r.given_name, r.patronymic) for r in rows
    ]
    assert "naloeva" in rows[0].name_key and rows[2].name_key
    tally = db.session.scalar(
        select(func.sum(SignatureTally.count)).where(SignatureTally.appeal_id == open_appeal.id)
    )
    assert tally == 4
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signatures.imported"))
    assert event.details == {"rows": 4, "format": "csv"}


def test_dry_run_stores_nothing(runner, open_appeal, table):
    path = table(_rows("Налоева,Мадина,,RU-CE,,мать,,,,,,,,,,"))
    result = _import(runner, open_appeal, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 row(s) checked" in result.output
    assert _count(open_appeal) == 0


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("Налоева,Мадина,,Атлантида,,мать,,,,,,,,,,", "region", "Неизвестный регион"),
        ('=HYPERLINK("http://x"),Мадина,,RU-CE,,мать,,,,,,,,,,', "surname", "Формулы не"),
        ("＝1+1,Мадина,,RU-CE,,мать,,,,,,,,,,", "surname", "Формулы не"),
        (",Мадина,,RU-CE,,мать,,,,,,,,,,", "surname", "фамилию"),
        ("Налоева,Мадина,,RU-CE,,мать,,,,,,,3000-01-01,,,", "signed_on", "ГГГГ-ММ-ДД"),
        ("Налоева,Мадина,,RU-CE,,мать,,,,not-mail,,,,,,", "email", "адрес"),
        ("Налоева,Мадина,,RU-CE,,мать,,,,,12,,,,,", "phone", "номер"),
        ("Налоева,Мадина,,RU-CE,,мать,,,,,,,,,x,", "sheet", "число"),
    ],
)
def test_a_bad_row_imports_nothing(runner, open_appeal, table, line, field, message):
    path = table(_rows("Хасанова,Айша,,RU-CE,,мать,,,,,,,,,,", line))
    result = _import(runner, open_appeal, path)
    assert result.exit_code != 0
    assert f"line 3, {field}:" in result.output
    assert message.lower() in result.output.lower()
    assert "nothing was imported" in result.output
    assert _count(open_appeal) == 0


def test_duplicate_rows_and_signers_who_signed_already(runner, open_appeal, table, make_signature):
    make_signature(
        open_appeal, surname="Налоева", given_name="Мадина", patronymic="", email="m@example.org"
    )
    path = table(
        _rows(
            "Хасанова,Айша,,RU-CE,,мать,,,,a@example.org,,,,,,",
            "Khasanova,Aysha,,RU-CE,,мать,,,,a@example.org,,,,,,",
            "Naloeva,Madina,,RU-CE,,мать,,,,m@example.org,,,,,,",
        )
    )
    result = _import(runner, open_appeal, path)
    assert result.exit_code != 0
    assert "line 3, surname: Та же подписавшая, что в строке 2." in result.output
    assert "line 4, surname: Эта подписавшая (имя и контакт) уже подписала" in result.output
    assert _count(open_appeal) == 1


def test_the_same_row_twice_without_contact(runner, open_appeal, table):
    path = table(
        _rows(
            "Хасанова,Айша,,RU-CE,Шали,мать,,,,,,,,,,",
            "Хасанова,Айша,,RU-CE,Грозный,мать,,,,,,,,,,",
            "Хасанова,Айша,,RU-CE,Шали,мать,,,,,,,,,,",
        )
    )
    result = _import(runner, open_appeal, path)
    # Two of one name in two villages may be two women: the duplicate finder shows them.
    assert "line 3" not in result.output
    assert "line 4, surname: Та же подписавшая, что в строке 2." in result.output
    assert _count(open_appeal) == 0


def test_missing_columns_and_unreadable_files(runner, open_appeal, table):
    result = _import(runner, open_appeal, table("region,town\nRU-CE,Grozny\n"))
    assert result.exit_code != 0 and "Required columns missing: surname,given_name" in result.output
    result = _import(runner, open_appeal, table(b"\x00\x01\x02\xff\xfe" * 100))
    assert result.exit_code != 0 and "neither UTF-8" in result.output
    result = _import(runner, open_appeal, table(b"PK\x03\x04broken", name="t.xlsx"))
    assert result.exit_code != 0 and "not a CSV or XLSX" in result.output
    assert _count(open_appeal) == 0


def test_encodings_bom_and_cp1251(runner, open_appeal, table):
    text = _rows("Налоева,Мадина,,Чеченская Республика,Грозный,мать,,,,,,,,,,")
    assert _import(runner, open_appeal, table(text, encoding="cp1251")).exit_code == 0
    text = _rows("Хасанова,Айша,,RU-CE,Грозный,мать,,,,,,,,,,")
    result = _import(runner, open_appeal, table(text, name="b.csv", encoding="utf-8-sig"))
    assert result.exit_code == 0, result.output
    names = db.session.scalars(select(Signature.surname).order_by(Signature.id)).all()
    assert names == ["Налоева", "Хасанова"]


def test_mapping_and_semicolons(runner, open_appeal, table):
    path = table("Фамилия;Имя;Регион;Кто\nНалоева;Мадина;RU-CE;мать\n")
    mapping = json.dumps(
        {"Фамилия": "surname", "Имя": "given_name", "Регион": "region", "Кто": "relationship"}
    )
    result = _import(runner, open_appeal, path, "--mapping", mapping)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Signature.given_name)) == "Мадина"
    result = _import(runner, open_appeal, path, "--mapping", '{"Nope": "surname"}')
    assert result.exit_code != 0 and "Nope" in result.output


def test_xlsx_formula_cells_refused(runner, open_appeal, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["Налоева", "Мадина", "", "RU-CE", "", "мать"])
    sheet.append(["=A2", "Айша", "", "RU-CE", "", "мать"])
    path = tmp_path / "t.xlsx"
    book.save(path)
    result = _import(runner, open_appeal, path)
    assert result.exit_code != 0 and "line 3, surname: Формулы не" in result.output
    assert _count(open_appeal) == 0


def test_file_over_the_limit(runner, open_appeal, table, monkeypatch):
    monkeypatch.setattr("campaign.signatures.cli.MAX_BYTES", 100)
    result = _import(runner, open_appeal, table(_rows(*["Налоева,Мадина,,RU-CE"] * 10)))
    assert result.exit_code != 0 and "larger than 50 MB" in result.output
    assert MAX_BYTES == 50 * 1024 * 1024


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "json"])
def test_round_trip(runner, open_appeal, make_signature, tmp_path, file_format):
    # The appeal offers its relationships in English.
    make_signature(
        open_appeal,
        relationship="mother",
        phone="+79281234567",
        postal_address="=cmd|' /C calc'!A0",
    )
    make_signature(
        open_appeal, relationship="wife", region="other", region_other="Стамбул", children=None
    )
    make_signature(open_appeal, relationship="sister", surname="+Плюсова", email="")
    out = tmp_path / f"list.{file_format}"
    result = runner.invoke(
        args=["signatures", "export", open_appeal.slug, "--format", file_format, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    before, _count_before = export_table(
        open_appeal, available_columns(open_appeal, private=True), "csv"
    )
    if file_format == "csv":
        text = out.read_text("utf-8")
        assert "'=cmd" in text and "'+Плюсова" in text
    if file_format == "json":
        # JSON is not run by spreadsheets; the CLI imports CSV and XLSX: convert it here.
        listed = json.loads(out.read_text("utf-8"))
        out = tmp_path / "from-json.csv"
        out.write_bytes(write_csv(list(listed[0]), [list(item.values()) for item in listed]))
    db.session.execute(delete(Signature))
    db.session.commit()
    result = _import(runner, open_appeal, out)
    assert result.exit_code == 0, result.output
    after, _count_after = export_table(
        open_appeal, available_columns(open_appeal, private=True), "csv"
    )
    assert after == before
    assert _count(open_appeal) == 3


def test_export_formats_neutralise_full_width(open_appeal, make_signature):
    make_signature(open_appeal, town="＝1+1", relative_name="＠home")
    columns = available_columns(open_appeal, private=True)
    data, count = export_table(open_appeal, columns, "csv", bom=True)
    assert count == 1 and data.startswith(b"\xef\xbb\xbf")
    assert "'＝1+1" in data.decode("utf-8-sig") and "'＠home" in data.decode("utf-8-sig")
    data, _ = export_table(open_appeal, columns, "xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    values = [cell.value for cell in next(sheet.iter_rows(min_row=2))]
    assert "'＝1+1" in values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_public_columns_leave_private_fields_out(open_appeal, make_signature):
    make_signature(open_appeal, phone="+79281234567", postal_address="ул. Ленина 1")
    columns = available_columns(open_appeal, private=False)
    assert not {"email", "phone", "postal_address"} & set(columns.names)
    data, _ = export_table(open_appeal, columns, "json")
    text = data.decode()
    assert "signer" not in text and "+7928" not in text and "Ленина" not in text


def test_round_trip_with_custom_questions(runner, open_appeal, make_signature, tmp_path):
    from campaign.signatures.fields import DEFAULT_MODES
    from campaign.signatures.settings import (
        QuestionData,
        SettingsData,
        save_sign_form_settings,
        sign_form_settings,
    )

    settings = sign_form_settings(open_appeal)
    save_sign_form_settings(
        open_appeal,
        SettingsData(
            modes=dict(DEFAULT_MODES),
            regions=None,
            relationships=list(settings.relationships),
            confirm_email=False,
            consent_text="",
            questions=[
                QuestionData("Сколько лет он там", "number", [], private=False, required=False),
                QuestionData("Тюрьма", "text", [], private=True, required=False),
            ],
        ),
        seen_revision=0,
    )
    db.session.commit()
    first, second = sign_form_settings(open_appeal).questions
    make_signature(
        open_appeal, relationship="mother", answers={first.id: "7", second.id: "Секретная"}
    )
    make_signature(open_appeal, relationship="wife")
    out = tmp_path / "list.csv"
    result = runner.invoke(args=["signatures", "export", open_appeal.slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    header = out.read_text("utf-8").splitlines()[0]
    assert header.endswith(",Сколько лет он там,Тюрьма")
    before, _ = export_table(open_appeal, available_columns(open_appeal, private=True), "csv")
    db.session.execute(delete(Signature))
    db.session.commit()
    result = _import(runner, open_appeal, out)
    assert result.exit_code == 0, result.output
    after, _ = export_table(open_appeal, available_columns(open_appeal, private=True), "csv")
    assert after == before
    public, _ = export_table(open_appeal, available_columns(open_appeal, private=False), "csv")
    assert "Секретная" not in public.decode() and "Тюрьма" not in public.decode()


def test_paper_rows_meet_online_ones_in_the_duplicate_finder(
    runner, open_appeal, table, make_signature
):
    from campaign.signatures.duplicates import find_pairs

    online = make_signature(
        open_appeal, surname="Налоева", given_name="Мадина", relationship="mother",
        relative_name="Ислам Налоев", email="",
    )  # fmt: skip
    path = table(_rows("Naloyeva,Madina,,RU-CE,Грозный,mother,Islam Naloev,,,,,,,,2,5"))
    assert _import(runner, open_appeal, path).exit_code == 0
    paper = db.session.scalar(select(Signature).where(Signature.source == SignatureSource.paper))
    pairs = find_pairs(open_appeal.id)
    assert [{p.first_id, p.second_id} for p in pairs] == [{online.id, paper.id}]
    assert paper.person_concerned_id == db.session.get(Signature, online.id).person_concerned_id
