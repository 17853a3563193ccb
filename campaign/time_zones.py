"""An appeal's time zone: the day a signature is dated and a deadline ends, where it is made.

A signature given at 01:30 in Grozny is dated that day in the dossier, not the day before as
in UTC; an appeal open "until 5 December" closes at the end of that day in its own zone.
"""

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel.core import get_global
from babel.dates import get_timezone_location
from flask import current_app, g, has_request_context

from campaign.clock import utcnow

UTC_ZONE = "UTC"


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone_or_utc(zone: str) -> ZoneInfo:
    """The zone, or UTC if the name is not one the system knows."""
    return ZoneInfo(zone if zone in _known() else UTC_ZONE)


def zones_of(country: str) -> list[str]:
    """The IANA zones of a country (ISO 3166-1 alpha-2), as CLDR lists them."""
    zones = get_global("territory_zones").get(country.upper(), [])
    return [zone for zone in zones if zone in _known()]


def zone_label(zone: str, language: str) -> str:
    """A zone as people name it: its city in the language and its offset now."""
    if zone not in _known() or zone == UTC_ZONE:
        return UTC_ZONE
    city = get_timezone_location(zone, locale=language, return_city=True)
    stamp = utcnow().astimezone(ZoneInfo(zone)).strftime("%z")
    return f"{city} (UTC{stamp[:3]}:{stamp[3:]})"


def zone_choices(country: str, language: str) -> list[tuple[str, str]]:
    """The country's zones, west to east, then UTC, as (zone, label) in the language."""
    now = utcnow()

    def offset(zone: str) -> float:
        delta = now.astimezone(ZoneInfo(zone)).utcoffset()
        return delta.total_seconds() if delta is not None else 0.0

    labels = {zone: zone_label(zone, language) for zone in zones_of(country)}
    zones = sorted(labels, key=lambda zone: (offset(zone), labels[zone]))
    return [(zone, labels[zone]) for zone in zones] + [(UTC_ZONE, "UTC")]


def default_zone(country: str) -> str:
    """The zone a new appeal of this country starts with: the site's own (DEFAULT_TIME_ZONE)
    when the country has it, else the country's only one; UTC when it has several."""
    zones = zones_of(country)
    preferred = current_app.config["DEFAULT_TIME_ZONE"]
    if preferred in zones:
        return str(preferred)
    return zones[0] if len(zones) == 1 else UTC_ZONE


def is_zone_of(zone: str, country: str) -> bool:
    """Whether an appeal of this country may use the zone (its own, or UTC)."""
    return zone == UTC_ZONE or zone in zones_of(country)


def local_date(moment: datetime, zone: str) -> date:
    """The day a moment falls on in the zone (UTC if the zone is unknown)."""
    return in_zone(moment, zone).date()


# Zones' offsets, and the moments they change, are whole quarters of an hour (not so the local
# mean times of the 19th century): the moments of one quarter of an hour of UTC fall on one
# day. LocalDays checks each quarter's first and last second, and where their days differ
# looks at each moment.
_QUARTER_SECONDS = 900


class LocalDays:
    """The day each of many moments falls on in one zone, as local_date gives it (ISO).

    For the dossier's 100,000 signatures: the day is looked up once per quarter of an hour
    they were signed in, and its text is one shared string.
    """

    def __init__(self, zone: str) -> None:
        self.zone = _zone_or_utc(zone)
        self._days: dict[int, str | None] = {}  # quarter -> its day; None where it changes
        self._texts: dict[str, str] = {}  # one string for each day

    def __call__(self, moment: datetime) -> str:
        """The day the moment (an aware datetime) falls on, as YYYY-MM-DD."""
        quarter = int(moment.timestamp() // _QUARTER_SECONDS)
        if quarter not in self._days:
            first = datetime.fromtimestamp(quarter * _QUARTER_SECONDS, self.zone).date()
            last = datetime.fromtimestamp((quarter + 1) * _QUARTER_SECONDS - 1, self.zone).date()
            self._days[quarter] = self._text(first) if first == last else None
        day = self._days[quarter]
        return day if day is not None else self._text(moment.astimezone(self.zone).date())

    def _text(self, day: date) -> str:
        text = day.isoformat()
        return self._texts.setdefault(text, text)


def end_of_day(day: date, zone: str) -> datetime:
    """The first moment after the day, as the zone's clocks count days (UTC if unknown)."""
    return datetime.combine(day + timedelta(days=1), time(), _zone_or_utc(zone))


def today_in(zone: str) -> date:
    """Today's date in the zone."""
    return local_date(utcnow(), zone)


def in_zone(moment: datetime, zone: str) -> datetime:
    """The moment as the zone's clocks show it (UTC if the zone is unknown); a template
    filter, for a page that shows moments of several appeals."""
    return moment.astimezone(_zone_or_utc(zone))


def show_times_in(zone: str) -> None:
    """Have this request's pages give dates and times in the zone (an appeal's pages)."""
    g.time_zone = zone


def select_time_zone() -> str:
    """Flask-Babel's zone for dates and times: the appeal's on its pages, else the site's."""
    chosen = g.get("time_zone") if has_request_context() else None
    if chosen not in _known():  # pages must not fail, nor disagree with the dossier's dates
        chosen = None
    return str(chosen or current_app.config["BABEL_DEFAULT_TIMEZONE"])
