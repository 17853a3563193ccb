"""The owners' audit log page: labels from the registry, filters, pages, owners only."""

import re

import pytest

from campaign.accounts.models import Role
from campaign.audit import views as audit_views
from campaign.audit.operations import record_event
from campaign.extensions import db
from campaign.signatures.moderation import flag_signature, restore_signature


@pytest.fixture
def editor(make_user):
    return make_user(name="Editor Elena")


@pytest.fixture
def appeal(make_published_appeal, editor):
    return make_published_appeal(members={editor: Role.editor})


def owner_of(appeal):
    return appeal.memberships[0].user


def test_owners_read_the_log_with_labels_and_members(client, login, editor, appeal, make_signature):
    signature = make_signature(appeal, email="private@example.org")
    flag_signature(signature, seen_revision=0, actor_id=editor.id)
    restore_signature(signature, seen_revision=1, actor_id=owner_of(appeal).id)
    db.session.commit()
    login(owner_of(appeal))
    response = client.get(f"/appeals/{appeal.id}/audit")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert "Signature flagged for review" in page and "Signature restored" in page
    assert "Editor Elena" in page
    assert f"signature No. {signature.id}" in page
    assert "private@example.org" not in page and "Налоева" not in page
    only_flags = client.get(
        f"/appeals/{appeal.id}/audit", query_string={"action": "signature.flagged"}
    ).get_data(as_text=True)
    assert "Signature flagged for review" in only_flags
    assert "Signature restored</td>" not in only_flags
    by_owner = client.get(
        f"/appeals/{appeal.id}/audit", query_string={"member": str(owner_of(appeal).id)}
    ).get_data(as_text=True)
    assert "Signature restored</td>" in by_owner
    assert "Signature flagged for review</td>" not in by_owner
    none_then = client.get(
        f"/appeals/{appeal.id}/audit", query_string={"until": "2000-01-01"}
    ).get_data(as_text=True)
    assert "No event matches" in none_then


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"action": "signature.eaten"}, "Not a valid choice"),
        ({"member": "999999"}, "Not a valid choice"),
        ({"since": "yesterday"}, "Enter a day as YYYY-MM-DD"),
        ({"since": "2026-12-06", "until": "2026-11-01"}, "comes before the first"),
    ],
)
def test_bad_filters_are_told(client, login, appeal, args, message):
    login(owner_of(appeal))
    page = client.get(f"/appeals/{appeal.id}/audit", query_string=args).get_data(as_text=True)
    assert message in page and "Nothing is shown until the filters are corrected" in page


def test_the_log_is_paginated(client, login, appeal, monkeypatch):
    monkeypatch.setattr(audit_views, "PAGE_SIZE", 3)
    for _ in range(5):
        record_event(appeal.id, "families.recomputed", actor_id=owner_of(appeal).id)
    db.session.commit()
    login(owner_of(appeal))
    first = client.get(f"/appeals/{appeal.id}/audit").get_data(as_text=True)
    assert first.count("Families recomputed</td>") == 3
    assert 'rel="next"' in first
    after = first.split("after=")[1].split('"')[0].split("&")[0]
    second = client.get(f"/appeals/{appeal.id}/audit", query_string={"after": after})
    assert second.get_data(as_text=True).count("Families recomputed</td>") == 2


def about_cells(page):
    return re.findall(r'<td data-label="About">(.*?)</td>', page, re.S)


def test_what_an_event_is_about_reads_as_words(client, login, editor, appeal):
    owner = owner_of(appeal)
    record_event(appeal.id, "submission.recorded", subject=("submission", 1), channel="online")
    record_event(appeal.id, "submission.answered", subject=("submission", 2), kind="answered",
                 public=True, next_hop=None)  # fmt: skip
    record_event(appeal.id, "appeal.private_data_erased", subject=("appeal", appeal.id),
                 signatures=53, scans=0, mails=0, dossiers=2, reason="owner")  # fmt: skip
    record_event(appeal.id, "dossier.downloaded", subject=("appeal", appeal.id),
                 dossier="0a1b2c3d4e5f60718293", edition="submission")  # fmt: skip
    record_event(appeal.id, "member.role_changed", subject=("user", editor.id),
                 role="advocate", previous="editor")  # fmt: skip
    record_event(appeal.id, "signatures.exported", subject=("appeal", appeal.id), rows=1200,
                 format="xlsx", private=False, newly_added_key="some_code")  # fmt: skip
    db.session.commit()
    login(owner)
    page = client.get(f"/appeals/{appeal.id}/audit").get_data(as_text=True)
    about = " | ".join(" ".join(cell.split()) for cell in about_cells(page))
    for words in (
        "submission No. 1",
        "channel: online reception",
        "submission No. 2",
        "answer: answered",
        "shown on the public page: yes",
        "signatures: 53",
        "scans: 0",
        "why: an owner asked",
        "dossier: 0a1b2c3d4e5f60718293",
        "edition: Dossier for submission",
        "Editor Elena",
        "role: Advocate",
        "previous role: Editor",
        "rows: 1,200",
        "format: XLSX",
        "with private details: no",
        "newly added key: some code",
    ):
        assert words in about
    for raw in ("True", "False", "None", "next_hop", "appeal 1", "_", "submission 2"):
        assert raw not in about
    assert "appeal No." not in about  # the log is the appeal's own


def test_editors_are_refused_and_other_organisers_get_404(client, login, editor, make_user, appeal):
    login(editor)
    assert client.get(f"/appeals/{appeal.id}/audit").status_code == 403
    client.post("/accounts/logout")
    login(make_user())
    assert client.get(f"/appeals/{appeal.id}/audit").status_code == 404
