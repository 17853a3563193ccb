"""The rows a dossier reads: values many rows repeat are held once (issue 22)."""

from campaign.dossiers.content import collect_content
from campaign.dossiers.models import Edition


def test_values_rows_repeat_are_one_string_each(open_appeal, make_signature):
    for n in range(3):
        make_signature(open_appeal, surname=f"Подписавшая{n}", relationship="мать", town="Грозный")
    rows = collect_content(open_appeal, Edition.submission).rows
    assert [row.relationship for row in rows] == ["мать"] * 3
    for field in ("relationship", "town", "region", "relative_location", "signed_on"):
        values = {id(getattr(row, field)) for row in rows}
        assert len(values) == 1, field
    assert len({id(row.name) for row in rows}) == 3
