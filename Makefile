# Two commands do all the set-up on a fresh Debian machine with Python >= 3.11:
#   make verilog K=4 MACS=8    (creates .venv on first use, then exports the datapath)
#   make test                  (also installs Icarus Verilog when missing and root)
# The virtual environment is (re)installed whenever pyproject.toml changes.

PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed-stamp

K        ?= 8
PIPELINE ?= 1
MACS     ?=
ENGINES  ?=
JOBS     ?= 2

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv verilog test test-fast sim-tools bench clean

help:
	@echo "make verilog K=4 [PIPELINE=1]   export the k-bit rescaler to build/verilog/"
	@echo "make test                        unit tests + cocotb RTL regression (installs iverilog if root)"
	@echo "make test-fast                   everything but the cocotb regression"
	@echo "make bench                       golden-model throughput benchmark"
	@echo "make clean                       remove build/ (keeps .venv)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: Python >= 3.11 is needed; run with PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || \
	  { echo "error: could not create $(VENV): install the venv module (apt-get install python3-venv)" >&2; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

venv: $(STAMP)

VERILOG_NAME := k$(K)_p$(PIPELINE)$(if $(MACS),_macs$(MACS))$(if $(ENGINES),_e$(ENGINES))
verilog: $(STAMP)
	@mkdir -p build/verilog
	$(PY) -m hw verilog --k $(K) --pipeline $(PIPELINE) $(if $(MACS),--macs $(MACS)) \
	  $(if $(ENGINES),--engines $(ENGINES)) -o build/verilog/$(VERILOG_NAME).v

# Icarus Verilog is the default cocotb simulator: install it from Debian when missing.
sim-tools:
	@command -v iverilog >/dev/null && command -v vvp >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Icarus Verilog (apt-get install iverilog) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null; \
	  else \
	    echo "error: Icarus Verilog not found: install it with 'sudo apt-get install iverilog'" >&2; exit 1; \
	  fi; }

test: $(STAMP) sim-tools
	$(PY) -m pytest -n $(JOBS)

test-fast: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -m "not cocotb"

bench: $(STAMP)
	$(PY) benchmarks/golden_throughput.py

clean:
	rm -rf build
