"""The site's templates, read as files: what no single page test would notice."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = re.compile(r"<table\b[^>]*>")
CLASSES = re.compile(r'class="([^"]*)"')


def test_every_table_of_the_site_has_the_sites_table_style():
    # site.css styles tables as table.list (padding, rules, a stacked layout on a phone with
    # .stack); a table without it is drawn cramped and unruled. The PDF templates have their own.
    assert "table.list th, table.list td" in (ROOT / "static/css/site.css").read_text()
    tables = 0
    for template in (ROOT / "templates").rglob("*.html"):
        if template.parent.name == "pdf":
            continue
        for tag in TABLE.findall(template.read_text()):
            tables += 1
            classes = CLASSES.search(tag)
            assert classes and "list" in classes[1].split(), f"{template.name}: {tag}"
    assert tables > 10
