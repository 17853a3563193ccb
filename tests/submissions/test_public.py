"""The public side: timeline on the appeal's page, /a/<slug>.json, /a.json, /verify, the home
page; and that none of them shows a private value planted everywhere."""

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.submissions.models import AnswerKind, Submission
from campaign.submissions.operations import AnswerData, record_answer
from tests.private_values import EMAIL, HELPER, PHONE, POSTAL_ADDRESS, ask_everything, plant
from tests.submissions.conftest import days_ago

TRACKING = "Planted-Tracking-Rk55"
SECRET_NUMBER = "Planted-RegNo-Hd21"
OUTGOING = "Planted-Outgoing-Lp08"
PRIVATE_SUMMARY = "Planted-Summary-Vc64"
PRIVATE_BODY = "Planted-Answer-Body-Ty19"
REPRESENTATIVE = "Planted-Representative-Mn47"
REPRESENTATIVE_ADDRESS = "Planted-Rep-Address-Gs30"
TEMPLATE = "Planted-Followup-Template-Xe11"


@pytest.fixture
def answered_appeal(make_published_appeal, make_submission):
    """A listed appeal with a planted signer, a forwarded submission whose answer is private,
    and the next hop registered with a private number and a public answer."""
    appeal = make_published_appeal(
        representative_name=REPRESENTATIVE, representative_address=REPRESENTATIVE_ADDRESS
    )
    appeal.listed = True
    ask_everything(appeal)
    plant(appeal)
    first = make_submission(
        appeal,
        channel_detail=TRACKING,
        sent_on=days_ago(appeal, 20),
        received_on=days_ago(appeal, 18),
        registered_on=days_ago(appeal, 17),
        registration_number="PUB-1",
        registration_public=True,
    )
    first.followup_template = TEMPLATE
    user = appeal.memberships[0].user
    record_answer(
        first,
        AnswerData(
            AnswerKind.forwarded,
            days_ago(appeal, 10),
            outgoing_number=OUTGOING,
            summary=PRIVATE_SUMMARY,
            body=PRIVATE_BODY,
            forwarded_to="Генеральная прокуратура",
        ),
        user,
    )
    hop = db.session.scalar(select(Submission).where(Submission.parent_id == first.id))
    hop.received_on = days_ago(appeal, 9)
    hop.registered_on = days_ago(appeal, 8)
    hop.registration_number = SECRET_NUMBER
    db.session.commit()
    return appeal


def test_the_timeline_on_the_appeal_page(client, answered_appeal):
    page = client.get(f"/a/{answered_appeal.slug}").get_data(as_text=True)
    assert "Where the appeal went" in page
    assert "Handed in to The President, Office of the President" in page
    assert "number PUB-1" in page
    assert "forwarded the appeal to Генеральная прокуратура" in page
    assert "Registered by Генеральная прокуратура" in page
    assert "Answer due from Генеральная прокуратура" in page
    assert "59-ФЗ, ст. 12, ч. 1" in page


def test_a_public_answer_is_shown_with_its_text(client, make_published_appeal, make_submission):
    appeal = make_published_appeal()
    submission = make_submission(appeal, registered_on=days_ago(appeal, 7), registration_number="R")
    record_answer(
        submission,
        AnswerData(
            AnswerKind.refused,
            days_ago(appeal, 1),
            summary="Refused for now",
            body="We see no *grounds*.<script>alert(1)</script>",
            public=True,
        ),
        appeal.memberships[0].user,
    )
    db.session.commit()
    page = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "Refused for now" in page and "<em>grounds</em>" in page
    assert "<script>alert(1)" not in page
    facts = client.get(f"/a/{appeal.slug}.json").get_json()
    assert facts["submissions"][0]["answer"]["summary"] == "Refused for now"
    assert facts["submissions"][0]["status"] == "refused"


def test_the_appeal_json(client, answered_appeal):
    response = client.get(f"/a/{answered_appeal.slug}.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    facts = response.get_json()
    assert facts["title"] == answered_appeal.latest_version.title
    assert facts["language"] == "en" and facts["status"] == "open"
    assert facts["counts"] == {
        "total": 1,
        "by_region": {"RU-CE": 1},
        "by_relationship": {"mother": 1},
    }
    assert facts["versions"][0]["fingerprint"] == answered_appeal.latest_version.fingerprint
    first, hop = facts["submissions"]
    assert first == {
        "addressee": "The President, Office of the President",
        "channel": "post",
        "sent_on": days_ago(answered_appeal, 20).isoformat(),
        "registered_on": days_ago(answered_appeal, 17).isoformat(),
        "answer_due": days_ago(answered_appeal, 17 - 30).isoformat(),
        "answered_on": days_ago(answered_appeal, 10).isoformat(),
        "status": "forwarded",
        "forwarded_to": "Генеральная прокуратура",
        "registration_number": "PUB-1",
    }
    assert hop["status"] == "registered" and "registration_number" not in hop
    assert hop["answer_due"] == days_ago(answered_appeal, 8 - 30).isoformat()


def test_a_draft_has_no_json(client, make_appeal):
    assert client.get(f"/a/{make_appeal().slug}.json").status_code == 404


def test_a_planned_submission_is_not_announced(client, make_published_appeal, make_submission):
    appeal = make_published_appeal()
    make_submission(appeal, sent_on=None, received_on=None, notice_days=3)
    assert client.get(f"/a/{appeal.slug}.json").get_json()["submissions"] == []
    assert "Where the appeal went" not in client.get(f"/a/{appeal.slug}").get_data(as_text=True)


def test_verify_shows_where_a_snapshot_went(client, answered_appeal):
    snapshot_id = db.session.scalar(select(Submission.snapshot_id))
    page = client.get(f"/verify/{snapshot_id}").get_data(as_text=True)
    assert "Handed in" in page
    assert "The President, Office of the President, by post" in page
    assert "registered under number PUB-1" in page


def test_the_home_page_and_a_json_list_listed_appeals_only(
    client, answered_appeal, make_published_appeal, make_appeal
):
    make_published_appeal(title="Not listed")
    draft = make_appeal(title="A listed draft")
    draft.listed = True
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert answered_appeal.latest_version.title in page
    assert "Not listed" not in page and "A listed draft" not in page
    listed = client.get("/a.json").get_json()["appeals"]
    assert [item["title"] for item in listed] == [answered_appeal.latest_version.title]
    assert listed[0]["count"] == 1
    assert listed[0]["latest_step"]["step"] == "registered"


def test_an_owner_lists_the_appeal(client, make_published_appeal, make_user, login):
    from campaign.accounts.models import Role

    owner, editor = make_user(), make_user()
    appeal = make_published_appeal(owner=owner, members={editor: Role.editor})
    login(editor)
    assert client.post(f"/appeals/{appeal.id}/listing", data={"listed": "y"}).status_code == 403
    client.post("/accounts/logout")
    login(owner)
    assert client.post(f"/appeals/{appeal.id}/listing", data={"listed": "y"}).status_code == 302
    db.session.refresh(appeal)
    assert appeal.listed


PRIVATE = [
    EMAIL.split("@")[0],
    PHONE[1:],
    POSTAL_ADDRESS,
    HELPER,
    TRACKING,
    SECRET_NUMBER,
    OUTGOING,
    PRIVATE_SUMMARY,
    PRIVATE_BODY,
    REPRESENTATIVE,
    REPRESENTATIVE_ADDRESS,
    TEMPLATE,
    "Planted-Private-Answer",
]


def test_no_public_page_shows_a_private_value(client, answered_appeal):
    snapshot_id = db.session.scalar(
        select(Submission.snapshot_id).where(Submission.parent_id.is_(None))
    )
    pages = {
        "appeal page": client.get(f"/a/{answered_appeal.slug}").get_data(as_text=True),
        "json": client.get(f"/a/{answered_appeal.slug}.json").get_data(as_text=True),
        "list json": client.get("/a.json").get_data(as_text=True),
        "home": client.get("/").get_data(as_text=True),
        "verify": client.get(f"/verify/{snapshot_id}").get_data(as_text=True),
    }
    assert "Генеральная прокуратура" in pages["appeal page"]  # the pages do show submissions
    for where, page in pages.items():
        for value in PRIVATE:
            assert value not in page, (where, value)
