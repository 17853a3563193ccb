"""The statutory clock: calendar days, the extension, forwarding, weekends, other countries."""

from datetime import date

from campaign.submissions.clock import RULES, channel_warning, clock_for


def test_registration_is_due_three_calendar_days_after_receipt():
    clock = clock_for("RU", received_on=date(2026, 12, 4), registered_on=None)
    assert clock.registration.on == date(2026, 12, 7)  # Friday + 3 days, weekend counted
    assert clock.registration.source == "59-ФЗ, ст. 8, ч. 2"
    assert clock.next == clock.registration
    assert clock.answer is None


def test_answer_is_due_thirty_calendar_days_after_registration():
    clock = clock_for("ru", received_on=date(2026, 11, 2), registered_on=date(2026, 11, 3))
    assert clock.answer.on == date(2026, 12, 3)
    assert clock.answer.source == "59-ФЗ, ст. 12, ч. 1"
    assert clock.next == clock.answer
    assert clock.forward_by.on == date(2026, 11, 10)  # art. 8 p. 3: 7 days
    assert clock.forward_by.source == "59-ФЗ, ст. 8, ч. 3"


def test_an_extension_adds_up_to_thirty_days_and_cites_its_rule():
    extended = clock_for("RU", received_on=None, registered_on=date(2026, 11, 3), extension_days=30)
    assert extended.answer.on == date(2027, 1, 2)
    assert "ст. 12, ч. 2" in extended.answer.source
    capped = clock_for("RU", received_on=None, registered_on=date(2026, 11, 3), extension_days=45)
    assert capped.answer.on == date(2027, 1, 2)


def test_a_due_date_on_a_weekend_stays_there_and_says_so():
    clock = clock_for("RU", received_on=None, registered_on=date(2026, 11, 6))
    assert clock.answer.on == date(2026, 12, 6)  # a Sunday
    assert clock.answer.on_weekend
    weekday = clock_for("RU", received_on=None, registered_on=date(2026, 11, 4))
    assert not weekday.answer.on_weekend


def test_days_left_and_overdue():
    clock = clock_for("RU", received_on=None, registered_on=date(2026, 11, 3))
    assert clock.answer.days_left(date(2026, 12, 1)) == 2
    assert not clock.answer.overdue(date(2026, 12, 3))
    assert clock.answer.overdue(date(2026, 12, 4))
    assert clock.answer.days_left(date(2026, 12, 5)) == -2


def test_an_answer_stops_the_clock():
    clock = clock_for("RU", received_on=None, registered_on=date(2026, 11, 3), answered=True)
    assert clock.next is None
    assert clock.answer is not None


def test_no_clock_in_a_country_without_rules():
    clock = clock_for("FR", received_on=date(2026, 11, 2), registered_on=date(2026, 11, 3))
    assert clock.next is None and clock.answer is None
    assert "FR" not in RULES


def test_plain_email_warns_since_547_fz(app):
    assert channel_warning("RU", "email", date(2026, 1, 1)) is not None
    assert "547" in str(channel_warning("RU", "email", date(2025, 3, 30)))
    assert channel_warning("RU", "email", date(2025, 3, 29)) is None
    assert channel_warning("RU", "online", date(2026, 1, 1)) is None
    assert channel_warning("FR", "email", date(2026, 1, 1)) is None
