"""Benchmark what sealing private data costs: the cipher alone, signing, and a dossier's render.

For each N (BENCH_PRIVATE_SIZES, default 5000) it loads the demo appeal with N fictional
signatories into a throw-away SQLite database and gives every one of them an email, a phone,
a postal address and a helper's name (the demo has none), then measures, each in a fresh
process: the CPU time of reading the signatures as the submission dossier reads them (every
private field and signature image decrypted), and the CPU time of the whole render (`flask
dossiers render`, its workers included). It also measures the CPU time of one signature
through `sign_appeal` (email, postal address, drawn signature), and the cipher on one value of
each size. CPU time rather than wall time: the machine is shared, and wall time there varies.
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FLASK = [PYTHON, "-m", "flask"]
SLUG = "vernite-nashikh-detei"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cpu(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run a command; return the CPU seconds of it and the children it waited for, its output."""
    before = _children_cpu()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return _children_cpu() - before, done.stdout


def _figure(output: str, name: str) -> float:
    for line in output.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def bench(count: int) -> None:
    """Print the figures at one size."""
    with tempfile.TemporaryDirectory(prefix="campaign-bench-") as folder:
        env = {
            **os.environ,
            "FLASK_APP": "campaign",
            "CAMPAIGN_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
            "CAMPAIGN_DOSSIER_FOLDER": f"{folder}/dossiers",
            "CAMPAIGN_MAIL_OUTBOX": f"{folder}/outbox",
            "CAMPAIGN_SECRET_KEY": "benchmark",
            "CAMPAIGN_DATA_KEY_FILE": f"{folder}/data_keys",
        }
        for command in (["db", "upgrade"], ["demo", "load", "--signatories", str(count)]):
            subprocess.run([*FLASK, *command], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([PYTHON, __file__, "--fill"], env=env, cwd=ROOT, check=True)
        _cpu, output = run_cpu([PYTHON, __file__, "--collect"], env)
        print(f"  reading {count} signatures for the dossier: {_figure(output, 'cpu'):.2f} s CPU")
        render = [*FLASK, "dossiers", "render", SLUG, "--edition", "submission"]
        cpu, output = run_cpu(render, env)
        print(
            f"  submission dossier, cold cache: {cpu:.1f} s CPU (process and workers), "
            f"{_figure(output, 'seconds'):.1f} s wall, {int(_figure(output, 'pages'))} pages"
        )
        _cpu, output = run_cpu([PYTHON, __file__, "--sign", "300"], env)
        print(f"  one signature through sign_appeal: {_figure(output, 'ms'):.2f} ms CPU")


def fill_private() -> None:
    """Give every signature of the demo appeal private values, as signers with contacts."""
    from sqlalchemy import bindparam, select, update

    from campaign import create_app
    from campaign.appeals.models import Appeal
    from campaign.extensions import db
    from campaign.signatures.models import Signature

    app = create_app()
    with app.app_context():
        appeal = db.session.scalar(select(Appeal).where(Appeal.slug == SLUG))
        ids = db.session.scalars(select(Signature.id).where(Signature.appeal_id == appeal.id))
        table = Signature.__table__
        db.session.execute(
            update(table).where(table.c.id == bindparam("row_id")),
            [
                {
                    "row_id": id_,
                    "email": f"signer{id_}@example.org",
                    "phone": f"+7928{id_:07d}",
                    "postal_address": f"364000, г. Грозный, ул. Мира, д. {id_ % 200}, кв. {id_}",
                    "helper_name": "Хеда Налоева" if id_ % 10 == 0 else "",
                }
                for id_ in ids
            ],
        )
        db.session.commit()


def collect() -> None:
    """Print the CPU time of reading the signatures for a submission dossier."""
    from sqlalchemy import select

    from campaign import create_app
    from campaign.appeals.models import Appeal
    from campaign.dossiers.content import collect_content
    from campaign.dossiers.models import Edition
    from campaign.extensions import db

    app = create_app()
    with app.app_context():
        appeal = db.session.scalar(select(Appeal).where(Appeal.slug == SLUG))
        collect_content(appeal, Edition.submission)  # warm: imports, statement cache, pages
        db.session.rollback()
        started = time.process_time()
        content = collect_content(appeal, Edition.submission)
        print(f"cpu {time.process_time() - started:.3f}")
        assert all(row.postal_address for row in content.rows)


def sign(count: int) -> None:
    """Print the CPU time of one signature with an email, an address and a drawn signature."""
    from sqlalchemy import select

    from campaign import create_app
    from campaign.appeals.models import Appeal
    from campaign.demo_drawing import draw_signature
    from campaign.extensions import db
    from campaign.signatures.images import clean_png
    from campaign.signatures.models import Display
    from campaign.signatures.operations import SignData, sign_appeal

    app = create_app()
    with app.app_context():
        appeal = db.session.scalar(select(Appeal).where(Appeal.slug == SLUG))
        images = [clean_png(draw_signature(20_000_000 + n)) for n in range(count)]

        def one(n: int) -> None:
            data = SignData(
                surname=f"Бенчмарк-{n}",
                given_name="Зарема",
                region="RU-CE",
                email=f"bench{n}@example.org",
                postal_address=f"364000, г. Грозный, ул. Мира, д. {n}",
                image=images[n],
                display=Display.initials,
            )
            sign_appeal(appeal, data, consent="benchmark", confirm_within=None)
            db.session.commit()

        one(0)  # warm
        started = time.process_time()
        for n in range(1, count):
            one(n)
        print(f"ms {(time.process_time() - started) * 1000 / (count - 1):.3f}")


def micro() -> None:
    """Print the cipher's cost on one value of each size, if this code has one."""
    try:
        from campaign import crypto
    except ImportError:
        print("  no cipher in this code")
        return
    keyring = crypto.Keyring.generate()
    for label, size in (("an email (30 B)", 30), ("an address (100 B)", 100), ("an image", 5000)):
        value = os.urandom(size)
        rounds = 20_000
        started = time.process_time()
        for _ in range(rounds):
            sealed = keyring.encrypt(value, "bench")
        sealing = (time.process_time() - started) / rounds
        started = time.process_time()
        for _ in range(rounds):
            keyring.decrypt(sealed, "bench")
        opening = (time.process_time() - started) / rounds
        print(f"  {label}: encrypt {sealing * 1e6:.1f} µs, decrypt {opening * 1e6:.1f} µs")


def main() -> None:
    """Run the benchmark and print its figures."""
    modes = {"--fill": fill_private, "--collect": collect}
    if sys.argv[1:2] == ["--sign"]:
        sign(int(sys.argv[2]))
        return
    if sys.argv[1:2] and sys.argv[1] in modes:
        modes[sys.argv[1]]()
        return
    sizes = [int(n) for n in os.environ.get("BENCH_PRIVATE_SIZES", "5000").split(",")]
    print(f"Private data sealed at rest, {os.cpu_count()} CPUs; CPU seconds.")
    micro()
    for count in sizes:
        print(f"N = {count}")
        bench(count)


if __name__ == "__main__":
    main()
