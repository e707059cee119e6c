# Two commands on a fresh machine: `make demo` and `make test` (both install first).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.oodgen-installed
PYTHON ?= python3
export PYTHONUNBUFFERED := 1

.PHONY: install lab docs demo test test-slow sync-check nbtest pytest readme bench gpu-check clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) setup.py settings.ini pyproject.toml
	$(PY) -m pip install -q --upgrade pip "setuptools<81" wheel
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## JupyterLab on the notebooks (the source of truth); LAB_ARGS="--no-browser --port 8899" for a remote machine.
lab: install
	$(BIN)/jupyter lab --notebook-dir nbs $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

## The documentation site in _docs/ (one page per notebook), built by nbdev offline: tools/build_docs.py (nbdev_docs
## with Quarto when `quarto` is in the venv or on PATH, else nbdev's processed notebooks rendered by nbconvert). ~1.5 min.
docs: install
	$(PY) tools/build_docs.py

## The main job on the embedded default (digits_shift, CPU), in portable numerics: the README's table on any x86-64 CPU.
demo: install
	$(BIN)/oodgen pipeline --portable --out runs --jobs 2 -p epochs 2 -p steps 100 -p cpu_threads 0 -p hparams "{batch_size: 21}"

## Library == notebooks, notebooks clean, README / docs pages == their notebooks, the documentation site (checked by
## tests/test_docs.py), then notebook tests and pytest.
## The docs build runs on one core: the notebook tests (2 workers) run beside it; pytest after (tests/test_docs.py reads
## _docs/, and the build rewrites oodgen/_modidx.py, which tests/test_pipeline_folder.py would see change).
test: install sync-check
	$(MAKE) --no-print-directory -j2 --output-sync=target docs nbtest
	$(MAKE) --no-print-directory pytest

sync-check: install
	@before=$$(git status --porcelain -- oodgen nbs README.md docs; git diff -- oodgen nbs README.md docs | md5sum); \
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean && $(BIN)/oodgen readme >/dev/null; \
	after=$$(git status --porcelain -- oodgen nbs README.md docs; git diff -- oodgen nbs README.md docs | md5sum); \
	if [ "$$before" != "$$after" ]; then \
	  echo "FAIL: nbdev_export / nbdev_clean / oodgen readme changed files: commit the notebooks' exports."; \
	  git status --porcelain -- oodgen nbs README.md docs; exit 1; fi; \
	echo "sync-check: library, notebooks and README are in sync"

nbtest: install
	OMP_NUM_THREADS=1 $(PY) tools/nbtest.py --n_workers 2   # nbdev_test, 2 notebooks at once (1 thread each), each in a fresh process

## 2 pytest-xdist workers, one test file at a time each (tests sharing a fixture's run live in one file), the files in
## the order conftest.py gives them (longest first: xdist's default reorder puts the few-test, long files last).
## Tests marked `slow` (end to end beyond the 6 minutes: cluster jobs, kill-and-resume, 2-process training, ...) are left to
## `make test-slow`; CI (.ci/run) runs both.
pytest: install
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not slow" tests

test-slow: install
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m slow tests

readme: install
	$(BIN)/oodgen readme

bench: install
	for f in tests/benchmarks/*.py; do $(PY) $$f || exit 1; done

## Each stage's step on CUDA (mixed precision, torch.compile on/off): under 5 min on one GPU; skips without one.
gpu-check: install
	PYTHON=$(PY) tests/gpu_check.sh

clean:
	rm -rf $(VENV) _proc _docs nbs/sidebar.yml
