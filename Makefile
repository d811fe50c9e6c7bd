# voxelio developer commands. Everything runs inside a git-ignored virtualenv
# (.venv) that the first command creates; only python3, pip and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PLUGINS := $(wildcard plugins/*)
# the test-only plugins (tests/plugins) are not installed here: the root
# conftest.py lays them out in a temporary folder for each test session
TEST_PLUGIN_DISTS := voxelio-toy voxelio-broken-import voxelio-broken-sniff voxelio-invalid-spec
INSTALL_INPUTS := pyproject.toml requirements-test.txt requirements-docs.txt $(wildcard plugins/*/pyproject.toml)

.PHONY: venv test lint demo bench docs clean fuzz nibabel-api-full nibabel-api-latest

venv: $(STAMP)

$(STAMP): $(INSTALL_INPUTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[fast]" $(foreach p,$(PLUGINS),-e ./$(p)) \
		-r requirements-test.txt
	# a venv made before the test plugins left it may still hold them
	$(BIN)/python -m pip uninstall --quiet --yes $(TEST_PLUGIN_DISTS) 2>/dev/null || true
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check framework plugins tests benchmarks docs conftest.py

# docs: every Markdown page's examples (docs/conftest.py runs them)
test: lint
	$(BIN)/python -m pytest tests $(foreach p,$(PLUGINS),$(p)/tests) docs -q -p no:cacheprovider

# the mutation fuzzer, longer than the fixed-seed slice in `make test`; a random
# seed unless FUZZ_SEED is set; findings (with their files) go to fuzz-findings/
FUZZ_SECONDS ?= 300
FUZZ_SEED ?=
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/fuzz.py --seconds $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

# NiBabel's generic API tests on voxelio's classes with NiBabel's full set of
# cases (make test runs the NIfTI-1 proxy cases for one shape only)
nibabel-api-full: $(STAMP)
	VOXELIO_NIBABEL_API_FULL=1 $(BIN)/python -m pytest tests/nibabel_api -q -p no:cacheprovider

# The same tests against the newest NiBabel release, in a virtualenv of their
# own (the pinned NiBabel of .venv stays as it is); not part of make test
LATEST_VENV := .venv-nibabel-latest
nibabel-api-latest:
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/python -m pip install --quiet -e ".[fast]" $(foreach p,$(PLUGINS),-e ./$(p)) \
		-r requirements-test.txt
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade nibabel
	$(LATEST_VENV)/bin/python -c "import nibabel; print('NiBabel', nibabel.__version__)"
	VOXELIO_NIBABEL_API_FULL=1 $(LATEST_VENV)/bin/python -m pytest tests/nibabel_api -q \
		-p no:cacheprovider

demo: $(STAMP)
	$(BIN)/python -m voxelio.demo demo-output

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	# byte-compile as a wheel install would (editable installs under
	# PYTHONDONTWRITEBYTECODE would otherwise recompile on every start)
	$(BIN)/python -m compileall -q framework plugins
	$(BIN)/python benchmarks/run.py --docs
	$(BIN)/python benchmarks/dask_bench.py

# warnings are errors (as in make test, tests/docs/test_site.py); the tools come
# from requirements-docs.txt; VOXELIO_DOCS_INTERSPHINX=1 links to Python, NumPy
# and NiBabel (needs network, see docs/conf.py)
docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) $(LATEST_VENV) docs/_build demo-output fuzz-findings
