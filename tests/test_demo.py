"""`flask demo load`: a working login, an open demo appeal and its signatories, however often."""

import hashlib
import re

from sqlalchemy import func, select

from campaign.accounts.models import User
from campaign.appeals.models import Appeal, AppealVersion
from campaign.appeals.operations import region_counts, signature_counts
from campaign.demo import DEMO_EMAIL, DEMO_SLUG
from campaign.extensions import db
from campaign.pdf_images import plain_png_idat
from campaign.signatures.fields import DEFAULT_CONSENT, DEFAULT_RELATIONSHIPS
from campaign.signatures.images import PNG_MAGIC, clean_png
from campaign.signatures.models import (
    PersonConcerned,
    Signature,
    SignatureImage,
    SignatureStatus,
)


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Appeal, AppealVersion)
    )


def test_demo_load_prints_a_working_login_and_is_idempotent(runner, client):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert counts() == (1, 1, 1)
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert counts() == (1, 1, 1)

    password = re.search(r"password: (\S+)", second.output).group(1)
    assert DEMO_EMAIL in second.output
    response = client.post("/accounts/login", data={"email": DEMO_EMAIL, "password": password})
    assert response.status_code == 302

    html = client.get(f"/a/{DEMO_SLUG}").get_data(as_text=True)
    assert "Президенту Российской Федерации" in html
    assert "1973" in html and "Ирак" in html
    appeal = db.session.scalar(select(Appeal))
    assert (appeal.language, appeal.status.value, appeal.latest_version.number) == ("ru", "open", 1)


SEVEN_REGIONS = {"RU-CE", "RU-DA", "RU-IN", "RU-KB", "RU-KC", "RU-SE", "RU-STA"}
CYRILLIC_NAME = re.compile(r"^[А-ЯЁ][а-яё]+(-[А-ЯЁ][а-яё]+)?$")
WOMEN = {"мать", "жена", "сестра", "бабушка", "дочь", "свекровь"}
MEN = {"отец", "муж", "брат", "дедушка", "сын", "свёкор"}


def load(runner, *args):
    result = runner.invoke(args=["demo", "load", *args])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


def demo_signatures():
    return list(db.session.scalars(select(Signature).order_by(Signature.id)))


def people():
    return [(s.surname, s.given_name, s.region, s.relationship_) for s in demo_signatures()]


def assert_counted(n):
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == DEMO_SLUG))
    assert signature_counts([appeal.id]) == {appeal.id: n}
    assert sum(count for _, count in region_counts(appeal.id)) == n
    assert db.session.scalar(select(func.count()).select_from(SignatureImage)) == n
    # Loaded by COPY or executemany, not the ORM: each drawing's fingerprint is stored with it.
    images = db.session.scalars(select(SignatureImage))
    assert all(image.png_sha256 == hashlib.sha256(image.png).hexdigest() for image in images)


def test_demo_signatories_are_valid_signed_and_counted(runner):
    result = load(runner, "--signatories", "30")
    assert "Demo signatories: 30" in result.output
    signatures = demo_signatures()
    appeal = db.session.scalar(select(Appeal))
    assert len(signatures) == 30
    assert_counted(30)

    pngs = [s.image.png for s in signatures]
    assert all(png.startswith(PNG_MAGIC) for png in pngs)
    assert len(set(pngs)) == 30
    # A PNG the app itself would accept and re-encode from a signer.
    assert (clean_png(pngs[0]).width, clean_png(pngs[0]).height) == (300, 100)
    assert all(len(png) < 4096 for png in pngs)
    # On white, as signing stores a drawn signature: the dossier embeds them as they are.
    assert all(plain_png_idat(png) is not None for png in pngs)

    relationships = set(DEFAULT_RELATIONSHIPS["ru"])
    for s in signatures:
        assert s.status is SignatureStatus.valid
        assert s.version_id == appeal.latest_version.id
        assert CYRILLIC_NAME.match(s.surname) and CYRILLIC_NAME.match(s.given_name)
        assert s.patronymic == "" or CYRILLIC_NAME.match(s.patronymic)
        assert s.region in SEVEN_REGIONS
        assert s.relationship_ in relationships
        if s.relationship_ in WOMEN:
            assert s.surname.endswith("а") and s.patronymic[-2:] in ("", "на")
        if s.relationship_ in MEN:
            assert not s.surname.endswith("а") and s.patronymic[-2:] in ("", "ич")
        assert s.children is None or 0 <= s.children <= 4
        assert (s.email, s.phone, s.postal_address, s.email_hash, s.phone_hash) == (None,) * 5
        assert s.confirmed_at == s.created_at == s.consent_at
        assert s.consent_text == DEFAULT_CONSENT["ru"]
    # Oldest first, and none before the letter was published.
    times = [s.created_at for s in signatures]
    assert times == sorted(times)
    assert times[0] >= appeal.latest_version.published_at


def test_demo_signatories_are_replaced_not_added(runner):
    first = load(runner, "--signatories", "30")
    again = load(runner, "--signatories", "30")
    # The dossier is handed in once, and only the load that does it says so.
    assert "the dossier handed in" in first.output
    assert "the dossier handed in" not in again.output
    assert len(demo_signatures()) == 30
    assert_counted(30)
    load(runner, "--signatories", "10")
    assert len(demo_signatures()) == 10
    assert_counted(10)
    load(runner, "--signatories", "0")
    assert_counted(0)


def test_demo_signatories_are_the_same_for_the_same_number(runner):
    load(runner, "--signatories", "12")
    first = people()
    load(runner, "--signatories", "5")
    assert len(people()) == 5 and people() != first[:5]
    load(runner, "--signatories", "12")
    assert people() == first
    assert len(set(first)) > 6  # not one person twelve times


def test_demo_load_gives_fifty_signatories_by_default(runner):
    load(runner)
    assert len(demo_signatures()) == 50
    assert_counted(50)


def test_demo_signatories_are_in_their_families(runner):
    load(runner, "--signatories", "40")
    load(runner, "--signatories", "30")  # the first forty's families go with them
    signatures = demo_signatures()
    named = [s for s in signatures if s.relative_name]
    assert named and all(s.person_concerned_id is not None for s in named)
    assert all(s.person_concerned_id is None for s in signatures if not s.relative_name)
    families = db.session.scalars(select(PersonConcerned.id)).all()
    assert set(families) == {s.person_concerned_id for s in named}


def test_the_demo_appeal_has_a_registered_submission_with_its_clock_running(runner, client):
    from datetime import date, timedelta

    assert runner.invoke(args=["demo", "load", "--signatories", "5"]).exit_code == 0
    facts = client.get(f"/a/{DEMO_SLUG}.json").get_json()
    (submission,) = facts["submissions"]
    registered = date.fromisoformat(submission["registered_on"])
    assert date.fromisoformat(submission["answer_due"]) == registered + timedelta(days=30)
    assert submission["status"] == "registered" and submission["answered_on"] is None
    assert "Where the appeal went" in client.get(f"/a/{DEMO_SLUG}").get_data(as_text=True)
    # Loading again hands nothing in twice.
    assert runner.invoke(args=["demo", "load", "--signatories", "5"]).exit_code == 0
    assert len(client.get(f"/a/{DEMO_SLUG}.json").get_json()["submissions"]) == 1


def test_signatures_drawn_in_other_processes_are_the_rows_drawn_here(runner, monkeypatch):
    from campaign import demo_drawing
    from campaign.signatures.families import recompute_families

    def rows():
        return [
            (s.surname, s.given_name, s.region, s.relative_name, s.image.png, s.image.width)
            for s in demo_signatures()
        ]

    monkeypatch.setattr(demo_drawing, "PROCESS_AT_LEAST", 10)
    load(runner, "--signatories", "40")  # drawn by other processes
    drawn_elsewhere = rows()
    # Complete and consistent: an image each, all different and plain; counted; in families
    # as a recompute places them.
    assert len(drawn_elsewhere) == 40
    assert len({row[4] for row in drawn_elsewhere}) == 40
    assert all(plain_png_idat(row[4]) is not None for row in drawn_elsewhere)
    assert_counted(40)
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == DEMO_SLUG))
    assert recompute_families(appeal.id).moved == 0

    monkeypatch.setattr(demo_drawing, "PROCESS_AT_LEAST", 1_000_000)
    load(runner, "--signatories", "40")  # drawn here
    assert rows() == drawn_elsewhere


def test_the_handed_in_dossier_holds_the_signatures_made_before_it_was_sent(runner):
    from datetime import timedelta

    from campaign.dossiers.models import DossierSnapshot
    from campaign.submissions.models import Submission
    from campaign.time_zones import local_date, today_in

    load(runner, "--signatories", "60")
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == DEMO_SLUG))
    submission = db.session.scalar(select(Submission))
    snapshot = db.session.get(DossierSnapshot, submission.snapshot_id)
    # Made on the day it was sent, nine days ago, of the signatures made by then and no other.
    assert submission.sent_on == today_in(appeal.time_zone) - timedelta(days=9)
    assert local_date(snapshot.created_at, appeal.time_zone) == submission.sent_on
    older = [s for s in demo_signatures() if s.created_at < snapshot.created_at]
    assert 0 < len(older) < 60
    assert snapshot.signature_count == len(older)
    assert_counted(60)  # and the later ones are there after it


def test_demo_signatories_made_before_the_pause_are_complete_at_it(runner):
    from datetime import timedelta

    from campaign.clock import utcnow
    from campaign.demo_signatories import replace_demo_signatories
    from campaign.signatures.families import recompute_families
    from campaign.signatures.models import SignatureNameWord

    load(runner, "--signatories", "0")
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == DEMO_SLUG))
    now = utcnow().replace(microsecond=0)
    seen = {}

    def pause():
        signatures = demo_signatures()
        seen["times"] = [s.created_at for s in signatures]
        seen["counted"] = signature_counts([appeal.id])[appeal.id]
        seen["regions"] = sum(count for _, count in region_counts(appeal.id))
        indexed = select(func.count(func.distinct(SignatureNameWord.signature_id)))
        seen["indexed"] = db.session.scalar(indexed)
        seen["moved"] = recompute_families(appeal.id).moved

    pause_at = now - timedelta(days=9)
    replace_demo_signatories(appeal, 80, now, pause_at=pause_at, pause=pause)
    db.session.commit()
    n = len(seen["times"])
    assert 0 < n < 80 and all(time < pause_at for time in seen["times"])
    assert seen["counted"] == seen["regions"] == seen["indexed"] == n
    assert seen["moved"] == 0  # in their families, as a recompute would place them then
    later = demo_signatures()[n:]
    assert len(later) == 80 - n and all(s.created_at >= pause_at for s in later)
    assert_counted(80)
    assert recompute_families(appeal.id).moved == 0
