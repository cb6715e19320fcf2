# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
AIPS_BIND ?= 127.0.0.1:8000
AIPS_ETP_BIND ?= 127.0.0.1:8001
AIPS_DATA_DIR ?= ./var
export AIPS_BIND AIPS_ETP_BIND AIPS_DATA_DIR
# The ETP's test session: its own settings, its own tests (src/aips/conftest.py keeps them apart).
ETP_TESTS := --ds=aips.settings_etp src/aips/etp

.DEFAULT_GOAL := venv
.PHONY: bench bench-auction venv run test lint typecheck test-sqlite test-postgres test-browser openapi messages lock clean
.PHONY: semgrep sast security security-evidence

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.lock pyproject.toml agent/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m pip install -q --no-deps -e ./agent
	touch $@

# AIPS at AIPS_BIND and the ETP at AIPS_ETP_BIND; Ctrl-C stops both (scripts/run.sh).
run: venv
	$(BIN)/aips i18n_compile
	@sh scripts/run.sh $(BIN)

lint: venv
	$(BIN)/ruff check src agent
	$(BIN)/ruff format --check src agent
	# The import contract (pyproject.toml [tool.importlinter]): products → platform → core.
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: venv
	$(BIN)/mypy src
	$(BIN)/mypy --config-file agent/pyproject.toml agent/src agent/tests agent/bench

test-sqlite: venv
	$(BIN)/aips i18n_compile
	@echo "== tests on SQLite"
	AIPS_DATABASE_URL= $(BIN)/pytest -q -m "not browser" -p no:cacheprovider --durations=10
	@echo "== ETP tests on SQLite"
	AIPS_ETP_DATABASE_URL= $(BIN)/pytest -q -m "not browser" -p no:cacheprovider --durations=5 $(ETP_TESTS)
	@echo "== integration module (agent) tests"
	$(BIN)/pytest -q -p no:cacheprovider agent/tests

test-postgres: venv
	$(BIN)/aips i18n_compile
	@sh scripts/postgres-tests.sh $(BIN)

test-browser: venv
	$(BIN)/aips i18n_compile
	@echo "== browser tests (Playwright + /usr/bin/chromium)"
	AIPS_DATABASE_URL= $(BIN)/pytest -q -m browser -p no:cacheprovider --durations=10
	@echo "== ETP browser tests"
	AIPS_ETP_DATABASE_URL= $(BIN)/pytest -q -m browser -p no:cacheprovider $(ETP_TESTS)

# Two at a time: CI's machine has two cores and each of these keeps about one busy. The longest
# (the two database suites) start first; each part's output is printed whole when it ends. The
# catalogues are compiled once before, so no two parts write them at the same time.
TEST_PARTS := test-postgres test-sqlite lint typecheck sast test-browser
test: venv semgrep
	$(BIN)/aips i18n_compile
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(TEST_PARTS)
	@echo "make test: all checks passed"

# Security testing (R57.21-R57.24, docs/security-testing.md). semgrep runs from its own venv
# inside .venv: its pins (click, jsonschema, wrapt) conflict with the project's lock.
SEMGREP_VENV := $(VENV)/semgrep
export AIPS_SEMGREP := $(CURDIR)/$(SEMGREP_VENV)/bin/semgrep

semgrep: $(SEMGREP_VENV)/.installed

$(SEMGREP_VENV)/.installed: security/requirements-semgrep.lock
	test -x $(SEMGREP_VENV)/bin/python || $(PYTHON) -m venv $(SEMGREP_VENV)
	$(SEMGREP_VENV)/bin/python -m pip install -q --require-hashes -r security/requirements-semgrep.lock
	touch $@

# Offline, part of `make test`: SAST gated by security/accepted.toml, the served JavaScript's
# inventory, and the rules' own tests on the planted examples of security/fixtures/.
sast: venv semgrep
	@echo "== SAST: ruff S, bandit, semgrep (security/semgrep), key files"
	$(BIN)/ruff check --extend-exclude security/fixtures security
	$(BIN)/ruff format --check --extend-exclude security/fixtures security
	$(BIN)/mypy security/scan.py security/tests
	$(BIN)/python -m security.scan sast
	$(BIN)/python -m security.scan js-inventory
	AIPS_DATABASE_URL= $(BIN)/pytest -q -p no:cacheprovider security/tests

# Everything, including SCA, which asks PyPI's vulnerability API (fails when unreachable).
security: sast
	$(BIN)/python -m security.scan sca
	$(BIN)/python -m security.scan sbom

# A release's results, kept with its tag for three years (R57.24): security/evidence/VERSION/.
security-evidence: venv semgrep
	@test -n "$(VERSION)" || { echo "usage: make security-evidence VERSION=x.y.z" >&2; exit 2; }
	$(BIN)/python -m security.scan evidence --version $(VERSION)

bench: venv
	@sh scripts/bench.sh $(BIN)

# The ETP's live auction over real HTTP on PostgreSQL (issue 18); also part of `make bench`.
bench-auction: venv
	@$(BIN)/python scripts/bench_auction.py

openapi: venv
	$(BIN)/aips export_openapi > docs/openapi.json
	$(BIN)/etp export_openapi > docs/openapi-etp.json

messages: venv
	cd src/aips && ../../$(BIN)/aips makemessages -l kk -l ru -l en --no-obsolete --no-location
	$(BIN)/aips i18n_compile --force

lock:
	uv pip compile -q requirements.in --generate-hashes --python-version 3.11 -o requirements.lock
	uv pip compile -q requirements-dev.in --generate-hashes --python-version 3.11 -o requirements-dev.lock
	uv pip compile -q security/requirements-semgrep.in --generate-hashes --python-version 3.11 -o security/requirements-semgrep.lock

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
