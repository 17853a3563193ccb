"""Counts of an appeal's valid signatures: per day (in the appeal's time zone) and broken down
by region, relationship and letter version; the same numbers as CSV.

Each breakdown is one line of BREAKDOWNS: its code, its title, the column it groups by and how
a value is named.
"""

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from campaign.appeals.models import Appeal, AppealVersion
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus
from campaign.signatures.presenting import region_label
from campaign.signatures.spreadsheets import neutralise
from campaign.time_zones import local_date

# Beyond this many days the curve counts weeks: a point per day would not be readable.
MAX_DAYS = 120


def _region(appeal: Appeal, language: str) -> Callable[[Any], str]:
    # "Elsewhere" is one bar: what signers typed there is not listed.
    return lambda code: region_label(code or "", "", language)


def _relationship(_appeal: Appeal, _language: str) -> Callable[[Any], str]:
    return lambda value: value or str(_l("not given"))


def _version(appeal: Appeal, _language: str) -> Callable[[Any], str]:
    numbers = dict(
        db.session.execute(
            select(AppealVersion.id, AppealVersion.number).where(
                AppealVersion.appeal_id == appeal.id
            )
        ).all()
    )
    return lambda version_id: str(_l("version %(number)d", number=numbers.get(version_id, 0)))


@dataclass(frozen=True)
class Breakdown:
    """Valid signatures counted by the values of one column."""

    code: str
    title: LazyString
    column: Callable[[], InstrumentedAttribute[Any]]
    naming: Callable[[Appeal, str], Callable[[Any], str]]


BREAKDOWNS: tuple[Breakdown, ...] = (
    Breakdown("region", _l("By region"), lambda: Signature.region, _region),
    Breakdown(
        "relationship", _l("By relationship"), lambda: Signature.relationship_, _relationship
    ),
    Breakdown("version", _l("By letter version"), lambda: Signature.version_id, _version),
)


@dataclass
class Statistics:
    """What the statistics page shows."""

    total: int
    per_day: list[tuple[date, int]]  # every day (or week) from the first signature to the last
    by_week: bool
    breakdowns: list[tuple[Breakdown, list[tuple[str, int]]]]  # largest first


def signature_statistics(appeal: Appeal, language: str) -> Statistics:
    """Count the appeal's valid signatures per day and by each breakdown."""
    valid = (Signature.appeal_id == appeal.id, Signature.status == SignatureStatus.valid)
    days = Counter(
        local_date(moment, appeal.time_zone)
        for moment in db.session.scalars(select(Signature.created_at).where(*valid))
    )
    per_day, by_week = _timeline(days)
    breakdowns = []
    for breakdown in BREAKDOWNS:
        column = breakdown.column()
        rows = db.session.execute(select(column, func.count()).where(*valid).group_by(column)).all()
        name = breakdown.naming(appeal, language)
        named: Counter[str] = Counter()
        with force_locale(language):  # the page's language, or the one asked (a CSV, a test)
            for value, count in rows:
                named[name(value)] += count
        breakdowns.append(
            (breakdown, sorted(named.items(), key=lambda item: (-item[1], item[0].casefold())))
        )
    return Statistics(sum(days.values()), per_day, by_week, breakdowns)


def _timeline(days: Counter[date]) -> tuple[list[tuple[date, int]], bool]:
    if not days:
        return [], False
    first, last = min(days), max(days)
    by_week = (last - first).days >= MAX_DAYS
    if by_week:
        weeks: Counter[date] = Counter()
        for day, count in days.items():
            weeks[day - timedelta(days=day.weekday())] += count
        first = first - timedelta(days=first.weekday())
        step, days = timedelta(days=7), weeks
    else:
        step = timedelta(days=1)
    line = []
    day = first
    while day <= last:
        line.append((day, days.get(day, 0)))
        day += step
    return line, by_week


def _cell(value: object) -> object:
    return neutralise(value) if isinstance(value, str) else value


def statistics_csv(statistics: Statistics) -> str:
    """The numbers of the page as CSV: table, value, count (UTF-8, a BOM for spreadsheets)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["table", "value", "count"])
    unit = "week" if statistics.by_week else "day"
    for day, count in statistics.per_day:
        writer.writerow([unit, day.isoformat(), count])
    for breakdown, rows in statistics.breakdowns:
        for value, count in rows:
            writer.writerow([breakdown.code, _cell(value), count])
    return out.getvalue()
