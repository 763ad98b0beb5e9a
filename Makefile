# The two commands of the README:
#   make run   set up .venv, upgrade the SQLite database, seed the demo data when empty, serve :5000
#   make test  set up .venv with the test tools, run the suite on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
LEDGER_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export LEDGER_TEST_DATABASE_URL

.PHONY: run test test-sqlite test-postgres install install-dev browser translations translations-update bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations browser

# The end-to-end tests (tests/e2e) drive Debian's Chromium through Playwright, never a browser
# that Playwright downloads; Chinese pages need a CJK font. Installed with apt-get when missing
# (as root, or through sudo when it is there); without either, the tests say how to install it.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
browser:
	@if [ -x /usr/bin/chromium ] && [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=sudo; \
	else echo "Debian's chromium is missing: run 'apt-get install $(BROWSER_PACKAGES)' as root for the end-to-end tests"; exit 0; fi; \
	echo "installing $(BROWSER_PACKAGES) for the end-to-end tests"; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES)

# Compile the catalogs (.mo files are build products, not kept in git).
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d ledger/translations --statistics 2>&1 | grep -v '^compiling' || true
	@test -f ledger/translations/zh_Hans_CN/LC_MESSAGES/messages.mo

# After changing UI strings: extract them and merge into both catalogs, then translate
# the new entries in ledger/translations/zh_Hans_CN/LC_MESSAGES/messages.po.
# PYTHONPATH=. lets pybabel load the product's extractor (ledger/i18n_extract.py, named in babel.cfg),
# which adds the refusals' default messages (the first docstring line of each LedgerError class).
translations-update: $(VENV)/.installed
	PYTHONPATH=. $(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project "jishijiu-ledger" --copyright-holder "Jining Municipal Civil Affairs Bureau" \
		-w 120 -o ledger/translations/messages.pot .
	$(BIN)/pybabel update -w 120 -i ledger/translations/messages.pot -d ledger/translations --no-fuzzy-matching
	$(MAKE) --no-print-directory translations

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty >/dev/null
	@echo; cat instance/demo-logins.txt 2>/dev/null || echo "(no demo logins: the database already had users)"; echo
	@echo "serving on http://127.0.0.1:5000  (Ctrl-C to stop)"
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# Extra pytest arguments, e.g. PYTEST_ARGS="-n 4" (pytest-xdist) on a machine with cores to spare.
# Off by default: on the 2-core machines `-n 2` made both runs slower (tests/conftest.py).
PYTEST_ARGS ?=

test-sqlite:
	LEDGER_TEST_DB=sqlite $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

# Needs PostgreSQL at $$LEDGER_TEST_DATABASE_URL; skipped with a reason when it does not
# answer, and a failure when CI=true.
test-postgres:
	LEDGER_TEST_DB=postgresql $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

bench: install-dev
	$(BIN)/python bench/posting.py
	$(BIN)/python bench/reports.py

clean:
	rm -rf $(VENV) .pytest_cache
