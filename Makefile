# Thin on purpose: each target is what a person would type.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: setup chaos-run test test-e2e lint bench clean

PATRONI_VENV := .venv-patroni
EMBEDDER_VENV := .venv-embedder
TRITON_VENV := .venv-triton
FEAST_VENV := .venv-feast
export FEAST_USAGE := False
TRITON_SERVER := $(VENV)/.triton-installed

setup: $(VENV)/.installed
	bash scripts/install-system-packages.sh
	$(MAKE) --no-print-directory $(PATRONI_VENV)/.installed $(EMBEDDER_VENV)/.installed \
		$(TRITON_VENV)/.installed $(TRITON_SERVER) $(FEAST_VENV)/.installed
	# the tabular stack's pipeline: data, features, train, register, serve, monitor (each step
	# prints its result; what is up to date is skipped). `gameday pipeline` re-runs it.
	$(BIN)/python -m targets.tabular.pipeline
	$(BIN)/python -m targets.triton.repository
	$(EMBEDDER_VENV)/bin/python -m targets.rag.seed_vectors --out artifacts/rag

# Triton Inference Server: the tritonserver binary shipped in the nvidia-pytriton wheel, into
# the harness's venv with --no-deps (its Python package pins numpy<2; only the binary is used),
# and its Python backend's stub for this Python put where the backend looks for it (FACTS.md).
$(TRITON_SERVER): $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check --no-deps nvidia-pytriton==0.7.0
	$(BIN)/python -c 'import shutil, sys, sysconfig; base = sysconfig.get_paths()["purelib"] + "/pytriton/tritonserver/"; shutil.copy2(base + "python_backend_stubs/%d.%d/triton_python_backend_stub" % sys.version_info[:2], base + "backends/python/")'
	touch $@

# The Triton model's own environment (EXECUTION_ENV_PATH), numpy < 2: with numpy 2 the Python
# backend reads inputs as zeros, silently (targets/triton/model-requirements.txt).
$(TRITON_VENV)/.installed: targets/triton/model-requirements.txt
	test -x $(TRITON_VENV)/bin/python || $(PYTHON) -m venv $(TRITON_VENV)
	$(TRITON_VENV)/bin/pip install -q --disable-pip-version-check -r targets/triton/model-requirements.txt && touch $@

# The feature store's venv: Feast would downgrade the harness's pandas and prometheus_client
# (targets/tabular/feast-requirements.txt).
$(FEAST_VENV)/.installed: targets/tabular/feast-requirements.txt
	test -x $(FEAST_VENV)/bin/python || $(PYTHON) -m venv $(FEAST_VENV)
	$(FEAST_VENV)/bin/pip install -q --disable-pip-version-check -r targets/tabular/feast-requirements.txt && touch $@

# The rag embedding server's venv: torch and the model only here (targets/rag/embedder-
# requirements.txt says why). torch==2.13.0 pinned: a bare torch pulls a multi-GB CUDA build.
$(EMBEDDER_VENV)/.installed: targets/rag/embedder-requirements.txt
	test -x $(EMBEDDER_VENV)/bin/python || $(PYTHON) -m venv $(EMBEDDER_VENV)
	$(EMBEDDER_VENV)/bin/pip install -q --disable-pip-version-check -r targets/rag/embedder-requirements.txt && touch $@

# Patroni runs as the database user, which cannot read a Python under /root (pyenv): its venv is
# made from Debian's /usr/bin/python3 (FACTS.md).
$(PATRONI_VENV)/.installed: targets/rag/patroni-requirements.txt
	test -x $(PATRONI_VENV)/bin/python || /usr/bin/python3 -m venv $(PATRONI_VENV)
	$(PATRONI_VENV)/bin/pip install -q --disable-pip-version-check -r targets/rag/patroni-requirements.txt && touch $@

# signal-processing-algorithms (E-divisive for `gameday trend`) with --no-deps: its 2.1.6
# metadata pins numpy < 2, its code runs on numpy 2 (tests/measure/test_changepoints.py); its
# other needs (structlog, more-itertools, scipy) are in pyproject.toml.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps signal-processing-algorithms==2.1.6
	touch $@

chaos-run:
	$(BIN)/gameday run suites/smoke.yaml
	$(BIN)/gameday run suites/rag.yaml

test:
	$(BIN)/pytest -q -m "not e2e and not soak" --durations=20

test-e2e:
	$(BIN)/pytest -q -m e2e

lint:
	$(BIN)/ruff check gameday reports targets loadtests tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench:
	$(BIN)/python bench/run_all.py

clean:
	-$(BIN)/gameday down
	rm -rf runs .gameday build *.egg-info $(PATRONI_VENV) $(EMBEDDER_VENV) $(FEAST_VENV)
