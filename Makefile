# Two commands do all the set-up on a fresh clone:
#   make theorems   # installs what is missing, then runs `pytest theorems/` (every registered result)
#   make test       # installs what is missing, then runs the library's own tests
# The environment is .venv (it reuses packages already installed system-wide, torch included).
PY := .venv/bin/python
PROFILE ?= ci

.PHONY: theorems test install bench docs report gpu

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

docs: .venv/.installed
	$(PY) -m ssl_props list --format markdown > docs/theorems.md

report: .venv/.installed
	$(PY) -m ssl_props report --out report/

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
