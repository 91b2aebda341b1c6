# Two commands do all the set-up on a fresh clone:
#   make theorems   # installs what is missing, then runs `pytest theorems/` (every registered result)
#   make test       # installs what is missing, then runs the library's own tests
# The environment is .venv (it reuses packages already installed system-wide, torch included).
PY := .venv/bin/python
PROFILE ?= ci

.PHONY: theorems test install bench docs report gpu soak mutate mutate-retry mutate-report conformance atlas

theorems: .venv/.installed
	$(PY) -m pytest theorems/ --hypothesis-profile=$(PROFILE)

test: .venv/.installed
	$(PY) -m pytest tests/ --hypothesis-profile=$(PROFILE)

install: .venv/.installed

# torch: prefer an installed one; else the pinned CPU wheel (a local file on the project's machines);
# an unpinned `torch` would pull a multi-GB CUDA build.
.venv/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv --system-site-packages .venv
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0 || $(PY) -m pip install -q "torch>=2.1"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

# Conformance with lightly in its own environment (lightly needs torchvision, and torchvision 0.28 does
# not load against the main environment's torch 2.13.0+cpu): torch 2.14.1 + torchvision 0.29.1 +
# lightly 1.6.0 (~1 min from the machine's disk, ~5.8 GB). Every test of tests/test_lightly_conformance.py
# runs; SSL_PROPS_REQUIRE_LIGHTLY=1 turns a missing lightly into an error instead of a skip.
CONF := .venv-conformance/bin/python

# every tests/test_conformance_*.py runs here too (one file per issue: checker, new losses, profile)
CONFORMANCE_TESTS = tests/test_lightly_conformance.py $(wildcard tests/test_conformance_*.py)
conformance: .venv-conformance/.installed
	SSL_PROPS_REQUIRE_LIGHTLY=1 $(CONF) -m pytest $(CONFORMANCE_TESTS) -p no:cacheprovider --hypothesis-profile=$(PROFILE)

.venv-conformance/.installed: pyproject.toml
	test -x $(CONF) || python3 -m venv .venv-conformance
	$(CONF) -m pip install -q torch==2.14.1 torchvision==0.29.1 lightly==1.6.0
	# solo-learn's package __init__ imports heavy optional dependencies: installed without them, its loss
	# modules are loaded by file (tests/helpers_solo.py)
	$(CONF) -m pip install -q --no-deps solo-learn==1.0.2
	$(CONF) -m pip install -q -e .
	touch $@

# The SSL loss atlas (issue 23, long: ~1 min per loss per core): every registered, lightly and solo-learn loss
# through `ssl-props check` and `ssl-props profile`, written to docs/atlas.md, docs/atlas.json, docs/atlas/*.png.
# Results are cached in .atlas-cache/ (keyed by the loss's source, the versions, the project's sources): a rerun
# with nothing changed takes seconds. ATLAS_ARGS: e.g. `--only simclr`, `--jobs 2`, `--timeout 300`.
ATLAS_ARGS ?= --jobs 2
atlas: .venv-conformance/.installed
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(CONF) -m ssl_props atlas $(ATLAS_ARGS)

docs: .venv/.installed
	$(PY) -m ssl_props list --format markdown > docs/theorems.md

report: .venv/.installed
	$(PY) -m ssl_props report --out report/

# the theorem suite under N fresh Hypothesis seeds (dev profile): each failing test id with its seed
N ?= 20
soak: .venv/.installed
	$(PY) scripts/soak.py -N $(N)

bench: .venv/.installed
	$(PY) benchmarks/bench_duality_sweep.py
	$(PY) benchmarks/bench_spectral.py
	$(PY) benchmarks/bench_checker.py --device cpu

# The GPU checks, as one short script for a session that is lent a CUDA machine: the theorem suite on
# the device, then the batched benchmarks on the device (each prints its CPU-comparable ratios and errors).
gpu: .venv/.installed
	SSL_PROPS_DEVICE=cuda $(PY) -m pytest theorems/ --hypothesis-profile=$(PROFILE) -q
	$(PY) benchmarks/bench_duality_sweep.py --device cuda
	$(PY) benchmarks/bench_spectral.py --device cuda
	$(PY) benchmarks/bench_dynamics.py --device cuda --cases 1000
	$(PY) benchmarks/bench_checker.py --device all
	$(PY) benchmarks/bench_profile.py --device cuda

# Mutation testing (issue 15; long, not in CI; `make mutate &` runs it in the background): mutmut on the
# committed tree, first with theorems/ (two mutants at a time, niced), then with tests/ on the mutants theorems/
# did not kill (the combined score needs no more), then mutation/report.md and a summary (scores, every survivor).
# MUTATE_ARGS: e.g. `--sample 16` (a stratified sample), `--max-minutes 30`, a pilot `--only ssl_props/spectral.py`;
# `make mutate-retry` reruns only what the last runs did not kill (killed verdicts of unchanged modules carried
# over); `make mutate-report` redoes the report from the last run.
MUTATE_ARGS ?= --sample 16
mutate: .venv/.installed
	$(PY) -c "import mutmut" 2>/dev/null || $(PY) -m pip install -q -e ".[mutate]"
	$(PY) mutation/run.py theorems --fresh --max-children 2 $(MUTATE_ARGS)
	$(PY) mutation/run.py tests --fresh --max-children 2 --survivors-of theorems $(MUTATE_ARGS)
	$(PY) mutation/report.py

mutate-retry: .venv/.installed
	$(PY) mutation/run.py theorems --retry --max-children 2 $(MUTATE_ARGS)
	$(PY) mutation/run.py tests --fresh --max-children 2 --survivors-of theorems $(MUTATE_ARGS)
	$(PY) mutation/report.py

mutate-report:
	$(PY) mutation/report.py
