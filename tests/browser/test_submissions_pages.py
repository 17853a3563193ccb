"""axe-core finds no violation, and nothing is wider than the screen, on the submission pages:
the desk, a refused form, the due list, the public timeline, the home page's list, the
unsubscribe page; in Russian, on a phone and on a desktop."""

from datetime import timedelta

import pytest

from campaign.extensions import db
from campaign.submissions.mailings import unsubscribe_token
from campaign.submissions.models import AnswerKind, Channel
from campaign.submissions.operations import (
    AnswerData,
    SubmissionData,
    record_answer,
    record_submission,
)
from campaign.time_zones import today_in
from tests.browser.test_accessibility import AXE, violations
from tests.conftest import PASSWORD
from tests.submissions.conftest import snapshot_row

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe_source() -> str:
    return AXE.read_text()


@pytest.fixture
def app_config(tmp_path):
    return {"SERVER_NAME": None, "SUBMISSION_SCANS_DIR": str(tmp_path / "scans")}


@pytest.mark.parametrize("width", [360, 1280])
def test_no_violation_on_the_submission_pages(
    live_server,
    browser,
    axe_source,
    make_user,
    make_published_appeal,
    make_signature,
    width,
):
    owner = make_user(language="ru")
    appeal = make_published_appeal(owner=owner, language="ru", title="Верните наших родных")
    appeal.listed = True
    signature = make_signature(appeal, hear_of_answer=True)
    today = today_in(appeal.time_zone)
    first = record_submission(
        appeal,
        SubmissionData(
            snapshot_id=snapshot_row(appeal, 1).id,
            addressee="Генеральная прокуратура Российской Федерации",
            channel=Channel.post,
            sent_on=today - timedelta(days=45),
            received_on=today - timedelta(days=43),
            registered_on=today - timedelta(days=41),
            registration_number="ОГР-12345-26",
            registration_public=True,
        ),
        owner,
    )
    record_answer(
        first,
        AnswerData(
            AnswerKind.forwarded,
            today - timedelta(days=20),
            summary="Переслано по компетенции",
            body="Ваше обращение направлено в **МИД России**.",
            public=True,
            forwarded_to="Министерство иностранных дел Российской Федерации",
        ),
        owner,
    )
    db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="ru-RU")
    found, widths = {}, {}

    def audit(name):
        found[name] = violations(page, axe_source)
        widths[name] = page.evaluate("document.documentElement.scrollWidth")

    page.goto(f"{live_server}/a/{appeal.slug}")
    assert page.locator(".timeline li").count() >= 4
    audit("timeline")
    page.goto(live_server + "/")
    audit("home, listed appeals")
    page.goto(f"{live_server}/unsubscribe/{unsubscribe_token(signature.id)}")
    audit("unsubscribe")
    page.goto(live_server + "/accounts/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    base = f"{live_server}/appeals/{appeal.id}/submissions"
    page.goto(base)
    audit("desk")
    page.fill("#sent_on", (today + timedelta(days=3)).isoformat())
    page.click("form.submission-form [type=submit]")
    assert page.locator(".error").count() >= 1
    audit("desk, refused")
    page.goto(f"{base}/{first.id}")
    audit("submission")
    page.goto(f"{base}/{first.id}/update")
    audit("update")
    page.goto(f"{base}/{first.id}/follow-up")
    audit("follow-up")
    page.goto(f"{live_server}/appeals/due")
    audit("due")
    assert {name: problems for name, problems in found.items() if problems} == {}
    assert {name: w for name, w in widths.items() if w > width} == {}
