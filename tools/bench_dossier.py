"""Benchmark the submission dossier: our block render against one naive WeasyPrint document.

For each N (BENCH_SIZES, default 1000,5000,20000) it loads the demo appeal with N fictional
signatories (`flask demo load --signatories N`) into a throw-away database, then measures, each
in a fresh process: our render with an empty cache, our re-render after 1 % more signatures
(the cache warm), our render with an empty cache after one signer with an Arabic name (text
that needs shaping: only her page is laid out by WeasyPrint, the rest drawn), and one
WeasyPrint document holding the same content. Peak memory is the
largest total resident size of the measured process and all its children (the render workers),
sampled from /proc. Seconds are the render's own, as the command prints them (from reading the
signatures to the file written, worker start-up included, Python start-up not).
BENCH_NAIVE_MAX skips the naive render above that N (it takes minutes).
"""

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FLASK = [PYTHON, "-m", "flask"]


def _tree_rss(pid: int) -> int:
    """Sum the resident memory (bytes) of a process and its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run a command; return its wall time, the peak memory of its process tree, its output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.25)  # reading /proc costs CPU the render would use

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, _ = process.communicate()
    elapsed = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output}")
    return elapsed, peak, output


def _figure(output: str, name: str) -> float:
    found = re.search(rf"^{name}\s+([0-9.]+)", output, re.M)
    return float(found.group(1)) if found else 0.0


def bench(count: int, naive_max: int) -> list[tuple[str, float, int, int]]:
    """Measure the three renders at one size."""
    results = []
    with tempfile.TemporaryDirectory(prefix="campaign-bench-") as folder:
        env = {
            **os.environ,
            "FLASK_APP": "campaign",
            "CAMPAIGN_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
            "CAMPAIGN_DOSSIER_FOLDER": f"{folder}/dossiers",
            "CAMPAIGN_SECRET_KEY": "benchmark",
            "CAMPAIGN_DATA_KEY_FILE": f"{folder}/data_keys",
        }
        subprocess.run(
            [*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        started = time.perf_counter()
        subprocess.run(
            [*FLASK, "demo", "load", "--signatories", str(count)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        print(f"  demo load --signatories {count}: {time.perf_counter() - started:.1f} s")
        slug = "vernite-nashikh-detei"
        render = [*FLASK, "dossiers", "render", slug, "--edition", "submission"]
        # The demo hands its dossier in, which fills the cache: empty it for a cold render.
        shutil.rmtree(Path(folder, "dossiers", "cache"), ignore_errors=True)
        _wall, peak, output = measure(render, env)
        seconds, pages = _figure(output, "seconds"), int(_figure(output, "pages"))
        results.append(("ours, cold cache", seconds, peak, pages))
        more = max(1, count // 100)
        subprocess.run([PYTHON, __file__, "--add", str(more)], env=env, cwd=ROOT, check=True)
        _wall, peak, output = measure(render, env)
        seconds, pages = _figure(output, "seconds"), int(_figure(output, "pages"))
        results.append((f"ours, +{more} signatures", seconds, peak, pages))
        subprocess.run([PYTHON, __file__, "--add-arabic"], env=env, cwd=ROOT, check=True)
        shutil.rmtree(Path(folder, "dossiers", "cache"), ignore_errors=True)
        _wall, peak, output = measure(render, env)
        seconds, pages = _figure(output, "seconds"), int(_figure(output, "pages"))
        results.append(("ours, cold, 1 Arabic name", seconds, peak, pages))
        if count <= naive_max:
            _wall, peak, output = measure([PYTHON, __file__, "--naive"], env)
            seconds, pages = _figure(output, "seconds"), int(_figure(output, "pages"))
            results.append(("naive, one document", seconds, peak, pages))
    return results


def add_signatures(count: int, *, arabic: bool = False) -> None:
    """Add signatures signed now (the newest, at the end of the list), as new signers would.

    arabic: one signer, with a name in Arabic script (set by WeasyPrint, with shaping).
    """
    from sqlalchemy import select

    from campaign import create_app
    from campaign.appeals.models import Appeal
    from campaign.demo_drawing import draw_signature
    from campaign.demo_signatories import fictional_signatories
    from campaign.extensions import db
    from campaign.signatures.images import clean_png
    from campaign.signatures.operations import SignData, sign_appeal

    app = create_app()
    with app.app_context():
        appeal = db.session.scalar(select(Appeal).where(Appeal.slug == "vernite-nashikh-detei"))
        for n, person in enumerate(fictional_signatories(count)):
            data = SignData(
                surname="\u0646\u0627\u0644\u0648\u064a\u0641\u0627" if arabic else person.surname,
                given_name="\u0645\u062f\u064a\u0646\u0629" if arabic else person.given_name,
                patronymic=person.patronymic,
                region=person.region,
                town=person.town,
                relationship=person.relationship,
                relative_name=person.relative_name,
                relative_location=person.relative_location,
                children=person.children,
                display=person.display,
                image=clean_png(draw_signature(10_000_000 + n)),
            )
            sign_appeal(appeal, data, consent="benchmark", confirm_within=None)
        db.session.commit()


def naive_render() -> None:
    """Render the same content as one WeasyPrint document, page numbers by CSS counters."""
    from flask_babel import force_locale
    from pikepdf import Pdf
    from sqlalchemy import select

    from campaign import ROOT as APP_ROOT
    from campaign import create_app
    from campaign.appeals.models import Appeal
    from campaign.clock import utcnow
    from campaign.dossiers.block_cache import BlockCache
    from campaign.dossiers.content import collect_content
    from campaign.dossiers.layout import DossierLayout
    from campaign.dossiers.models import Edition
    from campaign.dossiers.page_jobs import Snapshot
    from campaign.extensions import db
    from campaign.pdf import RenderJob, render_pdf

    app = create_app()
    with app.app_context(), app.test_request_context():
        appeal = db.session.scalar(select(Appeal).where(Appeal.slug == "vernite-nashikh-detei"))
        with force_locale(appeal.language):
            content = collect_content(appeal, Edition.submission)
            snapshot = Snapshot("0" * 20, utcnow(), "https://example.org/verify/x", "bench")
            with tempfile.TemporaryDirectory() as empty:
                layout = DossierLayout(
                    content, snapshot, landscape=False, cache=BlockCache(Path(empty))
                )
                layout.prepare()
                # Without glyph samples the tables are laid out by WeasyPrint, from templates.
                layout.plan({})
        jobs = [part for part, _key in layout.parts]
        bodies = [re.search(r"<body[^>]*>(.*)</body>", job.html, re.S).group(1) for job in jobs]
        head = jobs[0].html.split("<body", 1)[0]
        footer = (
            "<style>@page { @bottom-center { content: 'Страница ' counter(page) ' из ' "
            "counter(pages); font-size: 7.5pt } }</style>"
        )
        html = head.replace("</head>", footer + "</head>")
        html += '<body class="submission">' + "".join(bodies) + "</body></html>"
        resources = {name: data for job in jobs for name, data in job.resources.items()}
        started = time.perf_counter()
        pdf = render_pdf(
            RenderJob(
                html=html,
                resources=resources,
                pdf_variant=jobs[0].pdf_variant,
                attachments=jobs[0].attachments,
                metadata=jobs[0].metadata,
            ),
            APP_ROOT / "static",
        )
        # Like the command's figure: from the content gathered to the file in memory.
        print(f"seconds {time.perf_counter() - started:.1f}")
        with Pdf.open(io.BytesIO(pdf)) as document:
            print(f"pages {len(document.pages)}")


def main() -> None:
    """Run the benchmark and print a table."""
    if sys.argv[1:2] == ["--add"]:
        add_signatures(int(sys.argv[2]))
        return
    if sys.argv[1:2] == ["--add-arabic"]:
        add_signatures(1, arabic=True)
        return
    if sys.argv[1:2] == ["--naive"]:
        naive_render()
        return
    sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,5000,20000").split(",")]
    naive_max = int(os.environ.get("BENCH_NAIVE_MAX", "20000"))
    print(f"Submission dossier, {os.cpu_count()} CPUs; peak = process and its workers.")
    rows = []
    for count in sizes:
        print(f"N = {count}")
        for label, seconds, peak, pages in bench(count, naive_max):
            rows.append((count, label, seconds, peak, pages))
            print(f"  {label:<24} {seconds:7.1f} s {peak / 2**20:7.0f} MB {pages:6d} pages")
    print()
    print("| N | render | seconds | peak MB | pages | time vs naive |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for count, label, seconds, peak, pages in rows:
        naive = next((r[2] for r in rows if r[0] == count and r[1].startswith("naive")), None)
        ratio = f"{seconds / naive:.2f}" if naive else "n/a"
        print(f"| {count} | {label} | {seconds:.1f} | {peak / 2**20:.0f} | {pages} | {ratio} |")


if __name__ == "__main__":
    main()
