"""Benchmark the public path under load: the appeal page and the sign POST, against a Flask
hello-world served the same way in the same run (the method of shared/notes/web-load.md).

For each database (SQLite, the queue consumed by threads in the web processes; PostgreSQL
with the task queue and the rate limits on Redis and one `flask tasks worker` process, when
both answer on 127.0.0.1) it loads the demo appeal with BENCH_WEB_SIGNATURES fictional
signatories (default 100,000), serves the app with gunicorn (sync, 2 workers, as the
hello-world), and runs wrk (2 threads, 16 connections, BENCH_WEB_SECONDS seconds after a 5 s
warm-up):

- the page: GET /a/<slug> without cookies, as a surge of new visitors sends it;
- signing: the form's values fetched once like a browser (session cookie, CSRF token, fill-time
  stamp), then every POST a distinct signer with a ~5 KB drawn signature. Acknowledged = a 302
  to the thank-you page. Lost = acknowledged signers whose row is not there afterwards (wrk
  stops with up to one request per connection in flight, so rows may exceed acknowledged by as
  much, never fall short).

It prints req/s, p50, p99, errors, lost and the ratio to hello-world. Figures vary with the
machine's load: compare ratios within one run. Timed here, never asserted in tests.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SLUG = "vernite-nashikh-detei"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
SIGNATURES = int(os.environ.get("BENCH_WEB_SIGNATURES", "100000"))
SECONDS = int(os.environ.get("BENCH_WEB_SECONDS", "20"))
CONNECTIONS = 16
HELLO = """from flask import Flask
app = Flask(__name__)
@app.get("/")
def hello():
    return "Hello, World!"
"""
# Counts statuses per thread; `done` prints them as one JSON line wrk's own report follows.
LUA_COUNT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, '"' .. status .. '":' .. n) end
  io.write("STATUSES {" .. table.concat(parts, ",") .. "}\\n")
  io.write(string.format("LATENCY %d %d\\n", latency:percentile(50), latency:percentile(99)))
end
"""
# Each request a new signer: a surname made of the run's tag, the thread and a counter. The
# counting part (response, done) is LUA_COUNT's; its setup also numbers the threads.
LUA_SIGN = """
local counter = 0
local next_id = 0
function request()
  counter = counter + 1
  local name = TAG .. "t" .. id .. "n" .. counter
  local body = BODY .. "&surname=" .. name .. "&email=" .. name .. "%40bench.example"
  return wrk.format("POST", PATH, HEADERS, body)
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
    except OSError:
        return False
    return True


def serve(
    app: str, env: dict[str, str], cwd: Path, warm_path: str = "/"
) -> tuple[subprocess.Popen[bytes], str]:
    """Start gunicorn (sync, 2 workers) on a free port; return it and its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "gunicorn"), "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", app]
    env = {**env, "CAMPAIGN_PUBLIC_URL": base}
    server = subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)
    for _ in range(600):  # both workers up and answering (their first request included)
        try:
            for _worker in range(4):
                urllib.request.urlopen(base + warm_path, timeout=30).read()  # noqa: S310
            return server, base
        except OSError:
            time.sleep(0.1)
    stop(server)
    sys.exit(f"gunicorn did not start: {app}")


def stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(30)


def wrk(url: str, script: str, seconds: int, warm_up: str | None = None) -> dict[str, float]:
    """Run wrk with a Lua script after a 5 s warm-up (with `warm_up`'s script when given);
    return req/s, p50/p99 ms and statuses."""
    _wrk(url, warm_up or script, 5)
    out = _wrk(url, script, seconds)
    statuses = json.loads(re.search(r"STATUSES (\{.*\})", out).group(1))
    p50, p99 = (int(v) / 1000 for v in re.search(r"LATENCY (\d+) (\d+)", out).groups())
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rate, "p50": p50, "p99": p99, "statuses": statuses}


def _wrk(url: str, script: str, seconds: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", "-s", lua.name, "--latency", "--timeout", "10s"]
    try:
        done = subprocess.run([*command, f"-d{seconds}s", url], capture_output=True, text=True)
    finally:
        os.unlink(lua.name)
    done.check_returncode()
    return done.stdout


def form_values(base: str) -> tuple[str, str]:
    """What a browser gets after loading the page: its cookie and the form's two values."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/a/{SLUG}").read()
    values = json.loads(opener.open(f"{base}/a/{SLUG}/form").read())
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    body = {
        "csrf_token": values["csrf_token"],
        "started": values["started"],
        "given_name": "Bench",
        "region": "RU-CE",
        "relationship": "мать",  # the demo appeal is in Russian
        "signature": drawn_signature(),
        "display": "initials",
        "consent": "y",
    }
    return cookie, urllib.parse.urlencode(body)


def drawn_signature() -> str:
    """A canvas-like drawing of about 5 KB, as the pad sends it."""
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for step in range(0, 560, 7):
        draw.line([(20 + step, 100 + (step % 60) - 30), (27 + step, 70 + (step % 90))], "black", 3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def sign_script(tag: str, cookie: str, body: str) -> str:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    lua_headers = "{" + ",".join(f'["{k}"]={json.dumps(v)}' for k, v in headers.items()) + "}"
    numbered = LUA_COUNT.replace(
        "function setup(thread) table.insert(threads, thread) end",
        'function setup(thread) table.insert(threads, thread); thread:set("id", #threads) end',
    )
    constants = (
        f"TAG = {json.dumps(tag)}\nBODY = {json.dumps(body)}\n"
        f"PATH = {json.dumps('/a/' + SLUG)}\nHEADERS = {lua_headers}\n"
    )
    return constants + LUA_SIGN + numbered


def stored(env: dict[str, str], tag: str) -> int:
    code = (
        "from sqlalchemy import func, select\n"
        "from campaign import create_app\nfrom campaign.extensions import db\n"
        "from campaign.signatures.models import Signature\n"
        "with create_app().app_context():\n"
        "    query = select(func.count()).where(Signature.surname.like(sys.argv[1] + '%'))\n"
        "    print(db.session.scalar(query))"
    )
    command = [sys.executable, "-c", "import sys\n" + code, tag]
    out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True)
    return int(out.stdout.decode().strip().splitlines()[-1])


def report(name: str, figures: dict[str, float], hello: float, extra: str = "") -> None:
    statuses = figures["statuses"]
    errors = sum(n for status, n in statuses.items() if int(status) >= 400)
    print(
        f"  {name:<28} {figures['rps']:>8.0f} req/s  x{figures['rps'] / hello:.3f}  "
        f"p50 {figures['p50']:.1f} ms  p99 {figures['p99']:.1f} ms  errors {errors}{extra}",
        flush=True,
    )


def start_task_worker(env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    """With the queue on Redis: empty its database, then one `flask tasks worker` sends the mail."""
    url = env.get("CAMPAIGN_TASK_QUEUE", "")
    if not url.startswith("redis://"):
        return None  # SQLite: the web processes' own consumer threads
    import redis

    redis.Redis.from_url(url).flushdb()
    command = [str(BIN / "flask"), "tasks", "worker"]
    return subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def run(label: str, env: dict[str, str]) -> None:
    print(f"{label}: demo appeal with {SIGNATURES:,} signatories", flush=True)
    for command in (["db", "upgrade"], ["demo", "load", "--signatories", str(SIGNATURES)]):
        done = subprocess.run(
            [str(BIN / "flask"), *command], env=env, cwd=ROOT, capture_output=True
        )
        if done.returncode:
            sys.exit(done.stderr.decode())
        for line in done.stdout.decode().splitlines():
            if line.startswith("Demo signatories:"):  # how long `flask demo load` took
                print(f"  {line}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "hello.py").write_text(HELLO)
        server, base = serve("hello:app", env, Path(folder))
        hello = wrk(base + "/", LUA_COUNT, SECONDS)
        stop(server)
    report("Flask hello-world", hello, hello["rps"])
    task_worker = start_task_worker(env)
    server, base = serve("campaign:create_app()", env, ROOT, f"/a/{SLUG}")
    try:
        page = wrk(f"{base}/a/{SLUG}", LUA_COUNT, SECONDS)
        report("appeal page, no cookies", page, hello["rps"])
        cookie, body = form_values(base)
        time.sleep(int(env["CAMPAIGN_SIGN_MIN_SECONDS"]) + 1)
        # The warm-up's signers have names of their own: only the measured ones are counted.
        tag = f"Bench{int(time.time())}"
        warm_up = sign_script(f"Warm{tag}", cookie, body)
        sign = wrk(f"{base}/a/{SLUG}", sign_script(tag, cookie, body), SECONDS, warm_up)
    finally:
        stop(server)
        if task_worker is not None:
            stop(task_worker)
    acked = sign["statuses"].get("302", 0)
    rows = stored(env, tag)
    lost = max(0, acked - rows)
    cut_off = rows - acked
    report("sign POST", sign, hello["rps"], f"  acknowledged {acked}  lost {lost}")
    if not 0 <= cut_off <= CONNECTIONS:
        print(f"  !! rows {rows} vs acknowledged {acked}: more than the requests in flight")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="campaign-web-") as folder:
        env = {
            **os.environ,
            "FLASK_APP": "campaign",
            "PYTHONWARNINGS": "ignore",
            "CAMPAIGN_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
            "CAMPAIGN_DOSSIER_FOLDER": f"{folder}/dossiers",
            "CAMPAIGN_MAIL_OUTBOX": f"{folder}/outbox",
            "CAMPAIGN_SECRET_KEY": "benchmark",
            "CAMPAIGN_DATA_KEY_FILE": f"{folder}/data_keys",
            "CAMPAIGN_SIGN_LIMIT_PER_IP": "10000000 per day",
            "CAMPAIGN_SIGN_MIN_SECONDS": "3",
        }
        run("SQLite", env)
        if answers(5432) and answers(6379):
            name = f"campaign_bench_{os.getpid()}"
            admin = [sys.executable, "-c", "import sys, psycopg; c = psycopg.connect("
                     "'postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); "
                     "c.execute(sys.argv[1])"]  # fmt: skip
            subprocess.run([*admin, f"CREATE DATABASE {name}"], check=True)
            try:
                run(
                    "PostgreSQL, the queue and rate limits on Redis, one task worker",
                    {
                        **env,
                        "CAMPAIGN_SQLALCHEMY_DATABASE_URI": PG + name,
                        "CAMPAIGN_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
                        "CAMPAIGN_TASK_QUEUE": "redis://127.0.0.1:6379/14",
                    },
                )
            finally:
                subprocess.run([*admin, f"DROP DATABASE {name} WITH (FORCE)"], check=True)
        else:
            print("PostgreSQL or Redis does not answer on 127.0.0.1: SQLite only.")


if __name__ == "__main__":
    main()
