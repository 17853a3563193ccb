"""An appeal's time zone: its choices, its default, and the days it gives."""

from datetime import UTC, date, datetime, timedelta

import pytest

from campaign import time_zones
from campaign.time_zones import (
    LocalDays,
    default_zone,
    is_zone_of,
    local_date,
    today_in,
    zone_choices,
)


def test_a_countrys_zones_west_to_east_in_the_pages_language(app):
    choices = dict(zone_choices("RU", "ru"))
    assert choices["Europe/Moscow"] == "Москва (UTC+03:00)"
    assert choices["Asia/Vladivostok"].endswith("(UTC+10:00)")
    zones = [zone for zone, _label in zone_choices("RU", "en")]
    assert zones[0] == "Europe/Kaliningrad" and zones[-1] == "UTC"
    assert dict(zone_choices("RU", "en"))["Europe/Moscow"] == "Moscow (UTC+03:00)"


@pytest.mark.parametrize(
    ("country", "zone"),
    [("RU", "Europe/Moscow"), ("FR", "Europe/Paris"), ("IQ", "Asia/Baghdad"), ("US", "UTC")],
)
def test_the_default_is_the_sites_zone_or_the_countrys_only_one(app, country, zone):
    assert default_zone(country) == zone


def test_a_zone_must_be_the_countrys_or_utc(app):
    assert is_zone_of("Asia/Yekaterinburg", "RU") and is_zone_of("UTC", "FR")
    assert not is_zone_of("Europe/Paris", "RU") and not is_zone_of("Mars/Olympus", "RU")


def test_a_late_evening_in_utc_is_the_next_day_in_moscow():
    evening = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    assert local_date(evening, "Europe/Moscow") == date(2026, 12, 5)
    assert local_date(evening, "UTC") == date(2026, 12, 4)
    assert local_date(evening, "not a zone") == date(2026, 12, 4)


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Moscow",
        "Asia/Kolkata",  # +05:30
        "Asia/Kathmandu",  # +05:45
        "America/Havana",  # summer time starts and ends at midnight
        "Australia/Lord_Howe",  # half an hour of summer time
        "UTC",
        "not a zone",
    ],
)
def test_the_days_of_many_moments_are_the_days_local_date_gives(zone):
    days = LocalDays(zone)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment.year < 2027:  # every 7 min 13 s of a year, its changes of time included
        assert days(moment) == local_date(moment, zone).isoformat()
        moment += timedelta(minutes=7, seconds=13)


def test_the_days_of_moments_in_a_zone_whose_day_starts_within_a_quarter_hour():
    # Moscow kept its local mean time (+02:30:17) until 1919: its midnight fell at 21:29:43 UTC.
    days = LocalDays("Europe/Moscow")
    start = datetime(1900, 6, 1, 21, 20, tzinfo=UTC)
    for second in range(0, 20 * 60, 7):
        moment = start + timedelta(seconds=second)
        assert days(moment) == local_date(moment, "Europe/Moscow").isoformat()
    assert days(datetime(1900, 6, 1, 21, 29, 42, tzinfo=UTC)) == "1900-06-01"
    assert days(datetime(1900, 6, 1, 21, 29, 43, tzinfo=UTC)) == "1900-06-02"


def test_today_in_a_zone(monkeypatch):
    monkeypatch.setattr(time_zones, "utcnow", lambda: datetime(2026, 12, 4, 22, 30, tzinfo=UTC))
    assert today_in("Europe/Moscow") == date(2026, 12, 5)
    assert today_in("America/New_York") == date(2026, 12, 4)


def test_pages_fall_back_to_the_sites_zone_for_one_they_do_not_know(app):
    from flask import g

    from campaign.time_zones import select_time_zone

    with app.test_request_context():
        g.time_zone = "Mars/Olympus"
        assert select_time_zone() == app.config["BABEL_DEFAULT_TIMEZONE"]
        g.time_zone = "Asia/Baghdad"
        assert select_time_zone() == "Asia/Baghdad"


def test_a_zone_is_named_by_its_city_and_offset(app):
    from campaign.time_zones import zone_label

    assert zone_label("Asia/Baghdad", "ru") == "Багдад (UTC+03:00)"
    assert zone_label("UTC", "en") == zone_label("Mars/Olympus", "en") == "UTC"
