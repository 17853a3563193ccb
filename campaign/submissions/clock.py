"""The statutory clock: per-country rules with their sources, and the due dates they give.

Days are calendar days. A due date that falls on a weekend stays where the law puts it and is
shown as such; the organiser decides what that means for a reminder.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import LazyString, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Rule:
    """A term the law gives an authority, counted in calendar days, with its source."""

    days: int
    source: str  # the citation, in the language of the law


@dataclass(frozen=True)
class CountryRules:
    """What one country's law on citizens' appeals says about terms and channels."""

    law: str
    register: Rule  # from receipt to registration
    forward: Rule  # from registration to forwarding to the competent body
    answer: Rule  # from registration to the answer
    extension: Rule  # the most an answer may be extended by, with notice
    # Channels that the authority need not consider, from a date, with the source.
    refused_channels: dict[str, tuple[date, str]]


# Add a country here and every submission to an authority of it gets a clock.
RULES: dict[str, CountryRules] = {
    "RU": CountryRules(
        law="Федеральный закон от 02.05.2006 № 59-ФЗ",
        register=Rule(3, "59-ФЗ, ст. 8, ч. 2"),
        forward=Rule(7, "59-ФЗ, ст. 8, ч. 3"),
        answer=Rule(30, "59-ФЗ, ст. 12, ч. 1"),
        extension=Rule(30, "59-ФЗ, ст. 12, ч. 2"),
        refused_channels={"email": (date(2025, 3, 30), "Федеральный закон от 28.12.2024 № 547-ФЗ")},
    ),
}

SOON_DAYS = 7  # "soon due" on the desk and in the overdue list


def rules_for(country: str) -> CountryRules | None:
    """Return the country's rules, or None: no clock runs there."""
    return RULES.get(country.upper())


def channel_warning(country: str, channel: str, on: date) -> str | None:
    """Warn when the law of the country lets the authority ignore an appeal sent this way
    (in the page's language, its date as the desk writes dates)."""
    rules = rules_for(country)
    if rules is None or channel not in rules.refused_channels:
        return None
    since, _source = rules.refused_channels[channel]
    if on < since:
        return None
    return _(
        "Since %(since)s an appeal sent by plain e-mail is not considered (%(source)s): "
        "use the authority's online reception, the post or its reception office.",
        since=format_date(since, "medium"),
        source=rules.refused_channels[channel][1],
    )


@dataclass(frozen=True)
class Due:
    """One due date of a submission: what is due, when, and by which rule."""

    what: str  # "registration", "answer"
    on: date
    source: str

    @property
    def on_weekend(self) -> bool:
        """True when the date is a Saturday or a Sunday."""
        return self.on.weekday() >= 5

    def days_left(self, today: date) -> int:
        """Days from today to the date; negative once it has passed."""
        return (self.on - today).days

    def overdue(self, today: date) -> bool:
        """True once the date has passed."""
        return self.on < today


@dataclass(frozen=True)
class Clock:
    """A submission's due dates; `next` is the one that runs now, None once it stopped."""

    registration: Due | None
    answer: Due | None
    forward_by: Due | None
    next: Due | None


def clock_for(
    country: str,
    *,
    received_on: date | None,
    registered_on: date | None,
    extension_days: int = 0,
    answered: bool = False,
) -> Clock:
    """Work out the due dates from the dates recorded; an answer stops the clock."""
    rules = rules_for(country)
    if rules is None:
        return Clock(None, None, None, None)
    registration = None
    if received_on is not None:
        registration = Due(
            "registration",
            received_on + timedelta(days=rules.register.days),
            rules.register.source,
        )
    answer = forward_by = None
    if registered_on is not None:
        extension = min(max(extension_days, 0), rules.extension.days)
        source = rules.answer.source + (f"; {rules.extension.source}" if extension else "")
        answer = Due(
            "answer", registered_on + timedelta(days=rules.answer.days + extension), source
        )
        forward_by = Due(
            "forward", registered_on + timedelta(days=rules.forward.days), rules.forward.source
        )
    if answered:
        running = None
    elif registered_on is not None:
        running = answer
    else:
        running = registration
    return Clock(registration, answer, forward_by, running)


DUE_LABELS: dict[str, LazyString] = {
    "registration": _l("Registration due"),
    "answer": _l("Answer due"),
    "forward": _l("Forwarding due"),
}
