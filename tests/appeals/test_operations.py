"""Appeal operations: slugs, fingerprints, versions and diffs."""

import hashlib
import json
import unicodedata

import pytest
from sqlalchemy import func, select

from campaign.appeals.letters import (
    canonical_letter,
    diff_letters,
    letter_fingerprint,
    version_letter,
)
from campaign.appeals.models import AppealStatus, AppealVersion
from campaign.appeals.operations import (
    AddresseeData,
    AppealData,
    InvalidTransition,
    NothingToPublish,
    NotReadyToPublish,
    SlugTaken,
    close_appeal,
    create_appeal,
    make_slug,
    publish_appeal,
    reopen_appeal,
    slug_is_valid,
    update_appeal,
)
from campaign.extensions import db


def _data(**overrides):
    values = {
        "title": "Открытое письмо",
        "language": "ru",
        "addressees": (AddresseeData("Президенту", "Администрация"),),
        "body": "Текст письма.",
        "closing": "С уважением",
    }
    values.update(overrides)
    return AppealData(**values)


def test_slug_transliterates_cyrillic():
    assert make_slug("Верните наших детей домой") == "vernite-nashikh-detei-domoi"
    assert make_slug("Ёлка") == "elka"


def test_slug_of_symbols_only_is_still_valid():
    slug = make_slug("!!! ???")
    assert slug_is_valid(slug)


@pytest.mark.parametrize(
    "slug",
    [
        "ab",
        "Upper",
        "with space",
        "trailing-",
        "-lead",
        "a--b",
        "кириллица",
        "x" * 81,
        "semi;colon",
    ],
)
def test_malformed_slugs_are_invalid(slug):
    assert not slug_is_valid(slug)


def test_generated_slug_is_made_unique(make_user):
    owner = make_user()
    first = create_appeal(owner, _data(title="Same title"))
    second = create_appeal(owner, _data(title="Same title"))
    assert first.slug == "same-title"
    assert second.slug == "same-title-2"


def test_typed_slug_taken_is_refused(make_user):
    owner = make_user()
    create_appeal(owner, _data(slug="taken-slug"))
    with pytest.raises(SlugTaken):
        create_appeal(owner, _data(slug="taken-slug"))


def test_creator_is_owner(make_user):
    owner = make_user()
    appeal = create_appeal(owner, _data())
    assert [(m.user_id, m.role.name) for m in appeal.memberships] == [(owner.id, "owner")]
    assert appeal.status is AppealStatus.draft


def test_fingerprint_is_sha256_of_canonical_json():
    letter = {
        "title": "T",
        "addressees": [{"name": "N", "office": "O"}],
        "body": "B",
        "closing": "C",
        "language": "en",
    }
    canonical = canonical_letter(1, letter)
    assert json.loads(canonical) == {**letter, "number": 1}
    assert canonical == canonical_letter(1, dict(reversed(list(letter.items()))))
    assert letter_fingerprint(1, letter) == hashlib.sha256(canonical).hexdigest()
    assert letter_fingerprint(2, letter) != letter_fingerprint(1, letter)


def test_fingerprint_ignores_unicode_form_and_line_endings():
    nfc = {"title": "Ёж", "addressees": [], "body": "a\nb", "closing": "", "language": "ru"}
    nfd = {**nfc, "title": unicodedata.normalize("NFD", "Ёж"), "body": "a\r\nb"}
    assert nfd["title"] != nfc["title"]
    assert letter_fingerprint(1, nfc) == letter_fingerprint(1, nfd)


def test_publish_freezes_numbered_versions(make_user):
    owner = make_user()
    appeal = create_appeal(owner, _data())
    first = publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    assert (first.number, appeal.status) == (1, AppealStatus.open)
    assert first.fingerprint == letter_fingerprint(1, version_letter(first))

    update_appeal(appeal, _data(body="Изменённый текст."), seen_revision=appeal.draft_revision)
    assert first.body == "Текст письма."
    second = publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    assert second.number == 2
    assert second.fingerprint != first.fingerprint
    assert [v.number for v in appeal.versions] == [1, 2]


def test_publishing_an_unchanged_draft_is_refused(make_user):
    owner = make_user()
    appeal = create_appeal(owner, _data())
    publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    with pytest.raises(NothingToPublish):
        publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    assert db.session.scalar(select(func.count()).select_from(AppealVersion)) == 1


def test_publishing_an_incomplete_draft_is_refused(make_user):
    owner = make_user()
    appeal = create_appeal(owner, _data(body="", addressees=()))
    with pytest.raises(NotReadyToPublish) as raised:
        publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    assert raised.value.missing == ["addressees", "body"]
    assert appeal.status is AppealStatus.draft


def test_addressees_keep_their_order_and_blank_rows_are_dropped(make_user):
    owner = make_user()
    appeal = create_appeal(
        owner,
        _data(
            addressees=(
                AddresseeData("Second", "B"),
                AddresseeData("  ", ""),
                AddresseeData("First", "A"),
            )
        ),
    )
    assert [(a.position, a.name) for a in appeal.addressees] == [(1, "Second"), (2, "First")]
    update_appeal(
        appeal,
        _data(addressees=(AddresseeData("First", "A"), AddresseeData("Second", "B"))),
        seen_revision=appeal.draft_revision,
    )
    db.session.commit()
    db.session.expire_all()
    assert [a.name for a in appeal.addressees] == ["First", "Second"]


def test_close_and_reopen(make_user):
    owner = make_user()
    appeal = create_appeal(owner, _data())
    with pytest.raises(InvalidTransition):
        close_appeal(appeal)
    publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    close_appeal(appeal)
    assert appeal.status is AppealStatus.closed and appeal.closed_at is not None
    with pytest.raises(InvalidTransition):
        close_appeal(appeal)
    reopen_appeal(appeal)
    assert appeal.status is AppealStatus.open and appeal.closed_at is None


def test_diff_marks_added_and_removed_lines():
    old = {"title": "T", "addressees": [], "body": "one\ntwo", "closing": "", "language": "en"}
    new = {**old, "body": "one\nthree"}
    kinds = {(line.kind, line.text) for line in diff_letters(old, new)}
    assert ("-", "two") in kinds and ("+", "three") in kinds and (" ", "one") in kinds
