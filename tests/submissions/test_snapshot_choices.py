"""The desk's "Dossier handed in" list: each snapshot named by edition, time and short id."""

import html
import re
from datetime import UTC, datetime

from campaign.dossiers.models import Edition
from campaign.extensions import db


def _choices(client, url: str, **headers) -> list[str]:
    page = client.get(url, headers=headers).get_data(as_text=True)
    select = re.search(r'<select[^>]*name="snapshot_id".*?</select>', page, re.S).group(0)
    return [
        html.unescape(label).strip()
        for label in re.findall(r"<option[^>]*>(.*?)</option>", select, re.S)
    ]


def _three_snapshots(appeal, make_snapshot):
    appeal.time_zone = "Europe/Moscow"
    made = []
    for hour, edition in enumerate((Edition.sheets, Edition.public, Edition.submission), start=9):
        snapshot = make_snapshot(appeal, edition)
        snapshot.created_at = datetime(2026, 12, 8, hour, 5, tzinfo=UTC)
        made.append(snapshot)
    db.session.commit()
    return made


def test_each_snapshot_is_named_by_edition_time_and_id_newest_first(
    client, owner_appeal, make_snapshot
):
    sheets, public, submission = _three_snapshots(owner_appeal, make_snapshot)
    labels = _choices(client, f"/appeals/{owner_appeal.id}/submissions")[1:]
    assert len(set(labels)) == 3
    assert labels[0].startswith("Dossier for submission, ") and submission.id[:8] in labels[0]
    assert labels[1].startswith("Public edition, ") and public.id[:8] in labels[1]
    assert labels[2].startswith("Signature sheets, one per signer, ") and sheets.id[:8] in labels[2]
    assert "2:05" in labels[0]  # 11:05 UTC in Moscow
    assert owner_appeal.title not in " ".join(labels)


def test_the_edit_form_names_them_too_in_russian(
    client, owner_appeal, make_snapshot, make_submission
):
    submission = make_submission(owner_appeal)
    _three_snapshots(owner_appeal, make_snapshot)
    url = f"/appeals/{owner_appeal.id}/submissions/{submission.id}"
    labels = _choices(client, url, **{"Accept-Language": "ru"})[1:]
    assert labels[0].startswith("Досье для подачи, 08.12.2026, 14:05 · ")
    assert labels[1].startswith("Публичный вариант, 08.12.2026, 13:05 · ")
