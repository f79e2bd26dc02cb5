# Two entry points for a fresh machine: `make demo` (run the product) and `make test` (run every test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup system-deps postgres bench clean pwa

demo: $(STAMP)
	$(BIN)/learnwalk demo

# Two processes, a test file each at a time (module fixtures stay in one process): 13.5 min against 22 serially.
test: $(STAMP) system-deps postgres
	$(BIN)/python -m pytest -q -rs -n 2 --dist loadfile $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,dev]'
	touch $(STAMP)

# Debian packages the tests use: chromium for the browser tests (never a downloaded browser),
# poppler-utils to render PDF reports to PNG, a Noto font for non-Latin look-for text in reports.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; fi; \
	fi

# The PostgreSQL tests need the local server on 127.0.0.1:5432 (trust auth, database test).
postgres:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
	fi

# The offline web app (Python in the browser) as a static folder; wheels come from PyPI (docs/tablets.md).
pwa: $(STAMP)
	$(BIN)/learnwalk build-web --out build/pwa $(if $(SERVER_URL),--server-url $(SERVER_URL))

# every bench/*.py, then one table of their headline figures (bench/run_all.py)
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
