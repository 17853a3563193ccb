# The two commands of the set-up contract: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
FLASK := FLASK_APP=campaign $(VENV)/bin/flask
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
CHROMIUM := /usr/bin/chromium

.PHONY: run serve test bench lock install install-test translations messages lint system-deps system-test-deps system-bench-deps

# Python packages come only from the lock files (exact versions with their hashes), so that a
# release upstream never changes a fresh clone; `make lock` refreshes them from pyproject.toml.
LOCK := requirements/main.txt
TEST_LOCK := requirements/test.txt
PIP_INSTALL := $(PY) -m pip install --require-hashes --no-deps --only-binary :all:
INSTALL_LOG := $(VENV)/install.log

$(PY):
	@echo "Creating $(VENV)"
	@python3 -m venv $(VENV)

# Installer output goes to $(INSTALL_LOG) (shown only when something fails).
$(VENV)/.installed: $(LOCK) pyproject.toml | $(PY)
	@echo "Installing Python packages from $(LOCK) (log: $(INSTALL_LOG))"
	@$(PIP_INSTALL) -r $(LOCK) >$(INSTALL_LOG) 2>&1 || { tail -n 30 $(INSTALL_LOG); exit 1; }
	@$(PY) -m pip install --no-deps --no-build-isolation -e . >>$(INSTALL_LOG) 2>&1 || { tail -n 30 $(INSTALL_LOG); exit 1; }
	@touch $@

$(VENV)/.installed-test: $(TEST_LOCK) pyproject.toml | $(PY)
	@echo "Installing Python packages from $(TEST_LOCK) (log: $(INSTALL_LOG))"
	@$(PIP_INSTALL) -r $(TEST_LOCK) >$(INSTALL_LOG) 2>&1 || { tail -n 30 $(INSTALL_LOG); exit 1; }
	@$(PY) -m pip install --no-deps --no-build-isolation -e . >>$(INSTALL_LOG) 2>&1 || { tail -n 30 $(INSTALL_LOG); exit 1; }
	@touch $@ $(VENV)/.installed

# Resolve pyproject.toml afresh into the two lock files, install them, and run the suite.
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"
lock: install-test
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra test -o $(TEST_LOCK) --upgrade
	$(UV_COMPILE) pyproject.toml requirements/build.in -c $(TEST_LOCK) -o $(LOCK)
	rm -f $(VENV)/.installed $(VENV)/.installed-test
	$(MAKE) test

VENDOR := static/vendor/signature_pad.umd.min.js

# Front-end libraries come from the npm registry at set-up and are served by the app.
$(VENDOR): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the front-end libraries: run 'apt-get install npm'." >&2; exit 1; }
	@echo "Installing front-end packages from package-lock.json"
	@npm ci --no-audit --no-fund --silent
	@mkdir -p static/vendor
	@cp node_modules/signature_pad/dist/signature_pad.umd.min.js $@

install: $(VENV)/.installed $(VENDOR)

install-test: $(VENV)/.installed-test $(VENDOR)

translations: install
	@$(VENV)/bin/pybabel compile --statistics -d translations 2>&1 | grep -v "^compiling" || true

# Extract the messages afresh and update the catalogues (then translate what is new in ru).
messages: install
	$(PY) tools/catalogues.py

run: translations system-deps
	@echo "Migrating the database (log: $(VENV)/migrate.log)"
	@$(FLASK) db upgrade >$(VENV)/migrate.log 2>&1 || { cat $(VENV)/migrate.log; exit 1; }
	@$(FLASK) demo load
	@$(FLASK) run --debug --host 127.0.0.1 --port 5000

# Production serving (no debug): migrate, then gunicorn with deploy/gunicorn.conf.py on
# 127.0.0.1:8000; WEB_BIND, WEB_WORKERS, WEB_WORKER_CLASS and WEB_THREADS override it. Jobs
# run in `flask tasks worker` when TASK_QUEUE is Redis (see the README's production section).
serve: install translations system-deps
	@echo "Migrating the database (log: $(VENV)/migrate.log)"
	@$(FLASK) db upgrade >$(VENV)/migrate.log 2>&1 || { cat $(VENV)/migrate.log; exit 1; }
	@exec $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py

# Dossiers are laid out by WeasyPrint (Pango) in Debian's DejaVu fonts, which cover Latin,
# Cyrillic, Greek, Arabic, Hebrew, Armenian and Georgian; Noto (core) adds the other living
# scripts and WenQuanYi Zen Hei Chinese, Japanese and Korean. Only the glyphs used are embedded.
# The sign form refuses what no installed font covers (campaign/pdf_glyphs.py).
# WeasyPrint subsets fonts with HarfBuzz (it warns, and the suite fails, without the library).
system-deps:
	@fc-list 2>/dev/null | grep -q "DejaVu Serif" && fc-list 2>/dev/null | grep -q "Noto Sans Devanagari" \
	  && fc-list 2>/dev/null | grep -q "WenQuanYi Zen Hei" && ldconfig -p | grep -q libpangoft2-1.0 \
	  && ldconfig -p | grep -q libharfbuzz-subset || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig fonts-dejavu-core fonts-dejavu-extra fonts-noto-core fonts-wqy-zenhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null; \
	  else \
	    echo "Dossiers need Pango and the DejaVu, Noto and WenQuanYi fonts: run 'sudo apt-get install fonts-dejavu-core fonts-dejavu-extra fonts-noto-core fonts-wqy-zenhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0'." >&2; exit 1; \
	  fi; }

system-test-deps: system-deps
	@command -v pdftotext >/dev/null && test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils fonts-dejavu-core >/dev/null; \
	  else \
	    echo "Browser tests need Chromium and poppler-utils: run 'sudo apt-get install chromium poppler-utils'." >&2; exit 1; \
	  fi; }

# Dossier render times and memory at 1,000, 5,000 and 20,000 signatories (BENCH_SIZES=...),
# then the duplicate finder and the families at 20,000 and 100,000 (DUPLICATES_BENCH_SIZES=...),
# then the desk's signature list and its search at 100,000 (LIST_BENCH_SIZES=...), then the
# public page and the sign POST under load (tools/bench_web.py).
bench: install translations system-test-deps system-bench-deps
	$(PY) tools/bench_dossier.py
	$(PY) tools/bench_private_data.py
	$(PY) tools/bench_duplicates.py
	$(PY) tools/bench_signature_list.py
	$(PY) tools/bench_web.py
	$(PY) tools/bench_import.py

# The web benchmark loads the server with wrk (Debian's package).
system-bench-deps:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "The web benchmark needs wrk: run 'sudo apt-get install wrk'." >&2; exit 1; \
	  fi; }

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: install-test translations system-test-deps lint
	$(PY) -m pytest
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1).close()" 2>/dev/null; then \
	  echo "PostgreSQL answers on 127.0.0.1:5432: running the suite against it too."; \
	  TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest; \
	else \
	  echo "No PostgreSQL on 127.0.0.1:5432: the suite ran on SQLite only."; \
	fi
