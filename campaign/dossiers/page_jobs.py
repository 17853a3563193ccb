"""The WeasyPrint jobs of a dossier: front matter, summary, verification, blocks from templates."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, partial
from typing import Any

import segno
from babel.dates import format_date
from flask import render_template
from flask_babel import gettext as _

from campaign.dossiers.annex_families import Family, family_counts_by_place
from campaign.dossiers.content import DossierContent, Row
from campaign.dossiers.models import Edition
from campaign.dossiers.pagination import Column, family_columns
from campaign.dossiers.sheets import signer_sheets_html
from campaign.dossiers.signature_images import BlockImages
from campaign.pdf import PdfMetadata, RenderJob
from campaign.pdf_fetcher import PdfAttachment
from campaign.time_zones import local_date

# Every element the table and annex templates (and _base) use: their blocks are laid out
# with the user-agent rules for these alone (see RenderJob.user_agent_elements).
BLOCK_ELEMENTS = (
    "html", "head", "meta", "title", "link", "body", "section", "h2", "p", "div",
    "table", "colgroup", "col", "thead", "tbody", "tr", "th", "td", "span", "em", "img",
)  # fmt: skip
CHART_ITEMS = 12


@dataclass(frozen=True)
class Snapshot:
    """What a render needs to know of the snapshot it makes."""

    id: str
    made_at: datetime
    verify_url: str
    author: str


def edition_name(edition: Edition) -> str:
    """Name an edition for people, in the current language."""
    names = {
        Edition.submission: _("Dossier for submission"),
        Edition.public: _("Public edition"),
        Edition.sheets: _("Signature sheets, one per signer"),
    }
    return names[edition]


@cache
def format_day(iso_day: str, language: str) -> str:
    """Write a date the way the dossier's language does (unambiguous in a narrow column)."""
    day = date.fromisoformat(iso_day)
    return format_date(day, "dd.MM.yyyy", locale="ru") if language == "ru" else day.isoformat()


def common(content: DossierContent, landscape: bool) -> dict[str, Any]:
    """Return what every dossier template is given."""
    return {
        "language": content.language,
        "title": content.title,
        "edition": content.edition.value,
        "landscape": landscape,
    }


def _qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=True)
    return out.getvalue()


def _chart(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    if len(items) <= CHART_ITEMS:
        return items
    rest = sum(n for _label, n in items[CHART_ITEMS - 1 :])
    return [*items[: CHART_ITEMS - 1], (_("others"), rest)]


class PageJobs:
    """Make the render jobs of a dossier's pages laid out by WeasyPrint."""

    def __init__(
        self,
        content: DossierContent,
        snapshot: Snapshot,
        *,
        landscape: bool,
        columns: list[Column],
        csv: bytes,
        list_fingerprint: str,
    ) -> None:
        self.content = content
        self.snapshot = snapshot
        self.landscape = landscape
        self.columns = columns
        self.csv = csv
        self.list_fingerprint = list_fingerprint

    def metadata(self) -> PdfMetadata:
        """Return the metadata every part is rendered with."""
        return PdfMetadata(
            title=self.content.title,
            author=self.snapshot.author,
            language=self.content.language,
            subject=edition_name(self.content.edition),
            created=self.snapshot.made_at,
        )

    def page(self, template: str, context: dict[str, Any]) -> RenderJob:
        """Return the job of a page from its template, with the document's metadata."""
        html = render_template(template, **common(self.content, self.landscape), **context)
        return RenderJob(html=html, metadata=self.metadata())

    def front(self) -> RenderJob:
        """Return the front page's job: the host part, with the list as a CSV attachment."""
        content = self.content
        appeal = content.appeal
        version_counts: dict[int, int] = {}
        for row in content.rows:
            version_counts[row.version] = version_counts.get(row.version, 0) + 1
        representative = None
        if content.edition is Edition.submission and appeal.representative_name:
            representative = {
                "name": appeal.representative_name,
                "address": appeal.representative_address,
            }
        html = render_template(
            "pdf/front.html",
            **common(content, self.landscape),
            appeal=appeal,
            versions=content.versions,
            version_counts=version_counts,
            count=len(content.rows),
            paper_count=sum(1 for row in content.rows if row.paper),
            made_on=self.made_on(),
            reference=f"{appeal.id}/{appeal.slug}",
            snapshot_id=self.snapshot.id,
            edition_name=edition_name(content.edition),
            representative=representative,
        )
        attachments: tuple[PdfAttachment, ...] = ()
        variant = None
        if content.edition is not Edition.sheets:
            variant = "pdf/a-3b"
            attachments = (
                PdfAttachment(
                    name="signatories.csv",
                    data=self.csv,
                    description=_("The list of signatories, as in the table"),
                    mime_type="text/csv",
                    relationship="Data",
                ),
            )
        return RenderJob(
            html=html, pdf_variant=variant, attachments=attachments, metadata=self.metadata()
        )

    def table(self, pages: list[Sequence[Row]]) -> RenderJob:
        """Return the job of a block of signatory table pages, laid out from the template."""
        resources = BlockImages(
            self.content.images,
            {
                f"{row.image_sha256}.png": row.image_sha256
                for page in pages
                for row in page
                if row.image_sha256
            },
        )
        html = render_template(
            "pdf/table.html",
            **common(self.content, self.landscape),
            pages=pages,
            columns=self.columns,
            questions=self.content.questions,
            several_versions=len(self.content.versions) > 1,
            format_day=partial(format_day, language=self.content.language),
        )
        return RenderJob(
            html=html,
            resources=resources,
            pdf_variant=self.variant(),
            opaque_images=True,
            user_agent_elements=BLOCK_ELEMENTS,
        )

    def signer_sheets(self, pages: list[Sequence[Row]]) -> RenderJob:
        """Return the job of a block of signature sheets, one page per signer."""
        context = {
            **common(self.content, False),
            "format_day": partial(format_day, language=self.content.language),
        }
        html = signer_sheets_html(self.content, pages[0], context)
        return RenderJob(html=html, pdf_variant=self.variant(), user_agent_elements=BLOCK_ELEMENTS)

    def annex(self, pages: list[Sequence[Family]], first: bool) -> RenderJob:
        """Return the job of a block of annex pages (the first carries its heading)."""
        html = render_template(
            "pdf/annex.html",
            **common(self.content, False),
            pages=pages,
            columns=family_columns(),
            first=first,
        )
        return RenderJob(html=html, pdf_variant=self.variant(), user_agent_elements=BLOCK_ELEMENTS)

    def variant(self) -> str | None:
        """Return the PDF variant of the parts: PDF/A-3b but for the signature sheets."""
        return None if self.content.edition is Edition.sheets else "pdf/a-3b"

    def summary_context(self) -> dict[str, Any]:
        """Return what the summary page shows."""
        rows = self.content.rows
        not_given = _("region not given")
        # Counted over every signer, named in this edition or not.
        by_region = [(label or not_given, n) for label, n in self.content.by_region]
        by_relationship = [
            (label or _("not given"), n) for label, n in self.content.by_relationship
        ]
        return {
            "count": len(rows),
            # Counted over every signer: the public edition's annex lists only the families
            # whose signers agreed to show them (signatures.audience).
            "families": family_counts_by_place(self.content.places),
            "places": self.content.places,
            "by_region": by_region,
            "by_relationship": by_relationship,
            "chart_regions": _chart(by_region),
            "chart_relationships": _chart(by_relationship),
        }

    def made_on(self) -> str:
        """Return the day the snapshot was made, in the appeal's zone and language."""
        day = local_date(self.snapshot.made_at, self.content.appeal.time_zone)
        return format_day(day.isoformat(), self.content.language)

    def verification(self) -> RenderJob:
        """Return the verification page's job."""
        html = render_template(
            "pdf/verification.html",
            **common(self.content, False),
            snapshot_id=self.snapshot.id,
            made_on=self.made_on(),
            count=len(self.content.rows),
            versions=self.content.versions,
            list_fingerprint=self.list_fingerprint,
            verify_url=self.snapshot.verify_url,
        )
        return RenderJob(
            html=html,
            resources={"qr.svg": _qr_svg(self.snapshot.verify_url)},
            pdf_variant=self.variant(),
        )
