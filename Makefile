# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.belimap-installed
CORES ?= 2

.PHONY: demo test report lint bench clean browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install (or update) the pinned stack whenever the project's dependency files change.
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## run the demo study end to end, then build the Snakemake report
	$(BIN)/snakemake --cores $(CORES) --printshellcmds
	$(BIN)/snakemake --cores $(CORES) --report results/report.html
	@echo "Done: results/summary.html, results/report.html, figures under results/*/figures/"

test: $(STAMP) browser-deps  ## run the test suite
	$(BIN)/python -m pytest

# Headless Chromium for tests/test_browser.py (the summary page as a reader sees it). Idempotent:
# skipped when present; without root or apt the browser test skips and says why.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    apt-get install -y -q chromium chromium-driver >/dev/null || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; } ; } || \
	  echo "browser-deps: cannot install chromium here; tests/test_browser.py will skip"

lint: $(STAMP)
	$(BIN)/snakemake --lint

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf results/* logs .snakemake
	touch results/.gitkeep
