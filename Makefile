# Two commands for a fresh machine:
#   make demo   install, migrate a SQLite database, load the demo world, serve on 127.0.0.1:5000
#               (another port: make demo PORT=8080)
#   make test   install with the development tools and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
FLASK   = $(BIN)/flask --app partner_club
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-k ledger"
PYTEST_ARGS ?=
# Where demo and serve listen, e.g. make demo PORT=8080
PORT ?= 5000
HOST ?= 127.0.0.1
# The address printed in QR codes and links; follows HOST and PORT unless set.
PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: install install-dev system-packages demo serve test test-sqlite lint i18n bench clean screenshots wheel

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python system-packages
	$(BIN)/pip install --quiet -e .
	$(FLASK) i18n compile

install-dev: $(BIN)/python system-packages
	$(BIN)/pip install --quiet -e '.[dev]'
	$(FLASK) i18n compile

# Debian packages the club needs: the zbar library behind pyzbar, and
# Chromium for the browser tests (Playwright drives Debian's build; no
# browser is downloaded).
system-packages:
	@missing=""; \
	[ -e /usr/lib/x86_64-linux-gnu/libzbar.so.0 ] || ldconfig -p | grep -q libzbar.so.0 || missing="$$missing libzbar0"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: install
	$(FLASK) db upgrade
	PUBLIC_URL=$(PUBLIC_URL) $(FLASK) demo seed --if-empty
	PUBLIC_URL=$(PUBLIC_URL) $(FLASK) run --host $(HOST) --port $(PORT)

serve:
	PUBLIC_URL=$(PUBLIC_URL) $(FLASK) run --host $(HOST) --port $(PORT)

# The whole suite. CI sets TEST_DATABASE_URL and TEST_REDIS_URL to run it
# against PostgreSQL and Redis; without them it runs on SQLite.
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The quality gate CI runs before the suite: lint rules, formatting and types
# (mypy on every package's services and models, files listed in pyproject.toml).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every page of every demo role at 360 px and 1280 px, Russian and English, into
# build/screenshots/gallery/, each checked (scroll, tap targets, English words, axe-core).
screenshots: install-dev
	$(BIN)/python tools/screenshots.py

i18n:
	$(FLASK) i18n update
	$(FLASK) i18n compile

# dist/partner_club-*.whl with templates, static files, migrations and compiled catalogs
# inside (setup.py's build step compiles the .po files; tests/test_wheel.py serves from one).
wheel: install-dev
	$(BIN)/python -m build --no-isolation

bench: install-dev
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) build dist instance *.egg-info
