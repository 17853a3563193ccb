"""An audit event's subject and details put into words, known or not."""

from flask_babel import force_locale

from campaign.audit.models import AuditEvent
from campaign.audit.wording import About, describe

ENGLISH = {"Accept-Language": "en"}
ROLE = "роль"


def event(action="statistics.downloaded", subject=("", None), **details):
    return AuditEvent(
        action=action, subject_type=subject[0], subject_id=subject[1], details=details
    )


def test_known_keys_and_codes_are_words(app):
    with app.test_request_context(headers=ENGLISH):
        about = describe(
            event("sheets.scan_stored", ("appeal", 1), sheet=12, kind="pdf", missing=None)
        )
        assert about == About(None, [("sheet", "No. 12"), ("file type", "PDF")])
        answered = describe(event("submission.answered", ("submission", 3), kind="partly"))
        assert answered == About("submission No. 3", [("answer", "partly answered")])
    with app.test_request_context(), force_locale("ru"):  # the desk's own words for codes
        answered = describe(event("submission.answered", kind="partly", public=False))
        assert answered.details[0][1] == "ответ по части вопросов"
        assert describe(event("member.joined", role="owner")).details == [(ROLE, "Владелец")]


def test_what_it_does_not_know_still_shows_plainly(app):
    with app.test_request_context(headers=ENGLISH):
        about = describe(
            event("families.split", ("new_thing", 4), odd_key="odd_code", ids=[1, 2], ratio=0.5)
        )
        assert about.subject == "new thing No. 4"
        assert about.details == [("odd key", "odd code"), ("ids", "No. 1, No. 2"), ("ratio", "0.5")]


def test_a_member_subject_is_named_when_her_account_remains(app):
    with app.test_request_context(headers=ENGLISH):
        joined = event("member.joined", ("user", 7), role="owner")
        assert describe(joined, {7: "Olga Owner"}) == About("Olga Owner", [("role", "Owner")])
        assert describe(joined).subject == "member No. 7"
