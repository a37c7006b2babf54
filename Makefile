# The two commands a student or CI needs: `make lab` and `make test`.
# Everything goes into a local .venv made from Python >= 3.11 (python3.11 if on PATH).
#
# Stamps in .venv/ record what was installed from which files, so a second `make lab`
# starts at once and a changed requirements.txt or pyproject.toml reinstalls.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# -q keeps logs readable; `make test PIP_FLAGS=` shows all of pip's output.
PIP_FLAGS ?= -q

RUNTIME_STAMP := $(VENV)/.stamp-runtime
TEST_STAMP    := $(VENV)/.stamp-test
INSTRUCTOR_STAMP := $(VENV)/.stamp-instructor
BENCH_STAMP   := $(VENV)/.stamp-bench
CLASS_STAMP   := $(VENV)/.stamp-class

START_NOTEBOOK := notebooks/00_start_here.ipynb
# Jupyter refuses to start as root unless told; containers and CI machines often are root.
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: help lab test lint unit notebooks assignments autograde selfcheck benchmarks tensorboard class class-deps venv clean

help:
	@echo "make lab         set up .venv and open JupyterLab on $(START_NOTEBOOK)"
	@echo "make test        lint, unit tests, then every notebook under nbval"
	@echo "make assignments student versions of every chapter (nbgrader) in build/nbgrader/release"
	@echo "make autograde   grade everyone in build/nbgrader/submitted, each notebook sandboxed (bubblewrap)"
	@echo "make selfcheck   autograde the solutions in the sandbox: expect full marks"
	@echo "make benchmarks  run benchmarks/*.py one after another"
	@echo "make tensorboard TensorBoard on notebooks/runs (chapter 7's runs), http://127.0.0.1:6006"
	@echo "make class       (as root) a class on JupyterHub with nbgrader's exchange, http://127.0.0.1:8000"
	@echo "make clean       remove .venv and caches"

$(VENV)/pyvenv.cfg:
	@test -n "$(PYTHON)" || { echo "error: no python3.11 or python3 on PATH; install Python 3.11+" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); this course needs 3.11 or newer" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# --no-compile: Python compiles each module to bytecode the first time it is imported, so
# the ~90 MB of .pyc files for modules the course never imports are never written.
$(RUNTIME_STAMP): requirements.txt pyproject.toml | $(VENV)/pyvenv.cfg
	$(PIP) install $(PIP_FLAGS) --no-compile -r requirements.txt
	touch $@

# The tests include the instructor workflow (nbgrader) and chapter 7's PyTorch cells, so they
# install those extras too (torch==2.13.0 is the CPU build).
$(TEST_STAMP): $(RUNTIME_STAMP) pyproject.toml
	$(PIP) install $(PIP_FLAGS) --no-compile -r requirements.txt -e ".[test,instructor,torch]"
	touch $@

$(INSTRUCTOR_STAMP): $(RUNTIME_STAMP) pyproject.toml
	$(PIP) install $(PIP_FLAGS) --no-compile -r requirements.txt -e ".[instructor]"
	touch $@

# PyTorch is optional: benchmarks/train.py compares against it when it is installed.
$(BENCH_STAMP): $(RUNTIME_STAMP) pyproject.toml
	$(PIP) install $(PIP_FLAGS) --no-compile -r requirements.txt -e ".[test,bench]"
	touch $@

# The class deployment (deploy/): JupyterHub and its authenticator on top of the instructor
# extra, and the hub's proxy from npm into .venv/node (npm ci: exactly deploy/package-lock.json).
$(CLASS_STAMP): $(INSTRUCTOR_STAMP) deploy/requirements.txt deploy/package.json deploy/package-lock.json
	$(PIP) install $(PIP_FLAGS) --no-compile -r requirements.txt -e ".[instructor]" -r deploy/requirements.txt
	@command -v npm >/dev/null || { echo "error: no npm: the hub's proxy comes from npm; install Node.js 20+" >&2; exit 1; }
	mkdir -p $(VENV)/node && cp deploy/package.json deploy/package-lock.json $(VENV)/node/
	cd $(VENV)/node && npm ci --omit=dev --no-audit --no-fund --loglevel=error
	@# Students' servers and nbgrader commands run as users who cannot write bytecode into
	@# .venv: compile it once (unlike --no-compile above), or each start compiles ~6 s of CPU.
	@# PyTorch (the test extra) is no part of a class's servers: left out.
	$(BIN)/python -m compileall -q -j 0 -x 'site-packages/(torch|torchgen|functorch|sympy)/' $(VENV)/lib
	touch $@

class-deps: $(CLASS_STAMP)

# As root: the hub starts each user's server as that user (deploy/classroom.py says more).
class: $(CLASS_STAMP)
	$(BIN)/python deploy/classroom.py start

venv: $(RUNTIME_STAMP)

# Chapter 7 writes its training runs to notebooks/runs/<chapter>/<run>; one run per folder.
TB_PORT ?= 6006
tensorboard: $(RUNTIME_STAMP)
	@mkdir -p notebooks/runs
	$(BIN)/tensorboard --logdir notebooks/runs --host 127.0.0.1 --port $(TB_PORT)

lab: $(RUNTIME_STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) $(START_NOTEBOOK)

lint: $(TEST_STAMP)
	$(BIN)/ruff check --output-format=concise $(wildcard helpers tests notebooks benchmarks tools deploy)

# tests/test_classroom.py needs the class deployment's packages too. The overlap check of
# every notebook's figures runs in `make notebooks`, on the figures nbval draws.
NOTEBOOK_OVERLAP := tests/test_figure_overlap.py::test_every_notebook_figure_covers_no_data
# The exercise-check tests run every right answer over hundreds of fresh draws: pure CPU, so
# they run on JOBS processes (pytest-xdist). Their timed cases compare CPU time with numpy's
# own, measured in the same process at the same moment. Everything else (servers, browsers,
# the classroom) runs in one process, before them.
JOBS ?= 2
EXERCISE_TESTS := tests/test_exercises_ch*.py
unit: $(TEST_STAMP) $(CLASS_STAMP)
	$(PYTEST) tests --deselect $(NOTEBOOK_OVERLAP) --ignore-glob='$(EXERCISE_TESTS)'
	$(PYTEST) -n $(JOBS) $(EXERCISE_TESTS)

# --nbval-lax: only cells marked NBVAL_CHECK_OUTPUT compare outputs; every cell must run.
# --nbval-current-env: run notebooks in this .venv whatever kernel name they carry.
# HELPERS_FIGURE_AUDIT: each kernel measures every figure it draws (what covers the data)
# into build/figure-audit.jsonl; the overlap test then reads that log instead of executing
# every notebook a second time (it fails if the log misses a notebook or a figure).
FIGURE_AUDIT := $(CURDIR)/build/figure-audit.jsonl
notebooks: $(TEST_STAMP)
	@mkdir -p build && rm -f $(FIGURE_AUDIT)
	HELPERS_FIGURE_AUDIT=$(FIGURE_AUDIT) $(PYTEST) --nbval-lax --nbval-current-env notebooks/
	$(PYTEST) $(NOTEBOOK_OVERLAP)

test: lint unit notebooks

assignments: $(INSTRUCTOR_STAMP)
	$(BIN)/python tools/assignments.py generate

# Grading runs each notebook in a bubblewrap sandbox (docs/instructors.md): apt-get install bubblewrap.
autograde: $(INSTRUCTOR_STAMP)
	$(BIN)/python tools/assignments.py autograde --all

selfcheck: $(INSTRUCTOR_STAMP)
	$(BIN)/python tools/assignments.py selfcheck

benchmarks: $(BENCH_STAMP)
	@set -e; for f in $(sort $(wildcard benchmarks/*.py)); do \
	  echo "== $$f"; $(BIN)/python $$f; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
