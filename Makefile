# Quick start: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONSTRAINTS := $(VENV)/torch-constraints.txt
PYTEST_ARGS ?=
DEMO_STEPS ?= 1000

BENCH_JSON := benchmarks/results/latest.json
GATE_JSON := benchmarks/results/gate.json
BENCH_FLAGS := -p no:cacheprovider --benchmark-only --benchmark-columns=min,median,max,rounds

.PHONY: setup demo test test-full golden bench bench-save bench-compare report recall recall-deep recall-rules lm-rules lm-table gpu-wheels clean

setup: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml .ci/torch-constraints.sh | $(PY)
	bash .ci/torch-constraints.sh $(PY) > $(CONSTRAINTS)
	@echo "torch constraint: $$(cat $(CONSTRAINTS))"
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[all]'
	touch $(STAMP)

# the default rule on the torch backend; a tuned Triton kernel (interpreter) checked against the
# reference; then a short associative-recall run of MAG at 4x its attention window
demo: setup
	$(VENV)/bin/titans-kernels run titans_mlp2_normalized --backend torch --seq 4096 --batch 2 --heads 4 --dim 64
	$(VENV)/bin/titans-kernels autotune --gpu a100 --quick --shapes 32x32 --spec titans_mlp2_normalized
	TRITON_INTERPRET=1 $(VENV)/bin/titans-kernels run titans_mlp2_normalized --backend triton --tuned-for a100 \
		--seq 128 --batch 1 --heads 2 --dim 32 --chunk 32 --segment 128 --check 64 --dtype bfloat16
	$(VENV)/bin/titans-train --model mag --preset recall --steps $(DEMO_STEPS) --eval-every 500 \
		--eval-lengths 128,256 --out runs/demo

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

# rewrite tests/golden/ (the generated kernel sources) after an intended code-generator change
golden: setup
	$(PY) tests/golden/cases.py

# Triton 3.6 (torch 2.11's release) apart from the venv's, for the default-config checks under it
TRITON36 := .triton36
$(TRITON36)/.installed: | $(PY)
	$(PY) -m pip install --quiet --no-deps --target $(TRITON36) 'triton==3.6.*'
	touch $@

test-full: setup $(TRITON36)/.installed
	TITANS_TRITON36=$(abspath $(TRITON36)) $(PY) -m pytest -q -m "not gpu" $(PYTEST_ARGS)

# every suite (peers included), then the Markdown/PNG report in docs/perf
bench: setup
	$(PY) -m pytest benchmarks/ $(BENCH_FLAGS) --benchmark-json=$(BENCH_JSON) $(PYTEST_ARGS)
	$(VENV)/bin/titans-kernels report --results $(BENCH_JSON) --out docs/perf

# record this machine's baseline (benchmarks/baselines/<device, CPU ISA and count, versions>.json) over two runs
bench-save: setup
	TITANS_BENCH_THREADS=1 $(PY) -m pytest benchmarks/ -m "not peer" $(BENCH_FLAGS) --benchmark-json=$(GATE_JSON) $(PYTEST_ARGS)
	$(VENV)/bin/titans-kernels bench save --reset $(GATE_JSON)
	TITANS_BENCH_THREADS=1 $(PY) -m pytest benchmarks/ -m "not peer" $(BENCH_FLAGS) --benchmark-json=$(GATE_JSON) $(PYTEST_ARGS)
	$(VENV)/bin/titans-kernels bench save $(GATE_JSON)

# fails when a benchmark's ratio to the same-run matmul dropped more than 10% below the baseline
# recorded for this machine; on a machine without one, below the base commit's ratios measured in
# the same session (BENCH_BASE: a commit; auto = HEAD if tracked files changed, else HEAD~1)
BENCH_BASE ?= auto
bench-compare: setup
	@if $(VENV)/bin/titans-kernels bench has-baseline; then 		TITANS_BENCH_THREADS=1 $(PY) -m pytest benchmarks/ -m "not peer" $(BENCH_FLAGS) --benchmark-json=$(GATE_JSON) $(PYTEST_ARGS) 		&& $(VENV)/bin/titans-kernels bench compare $(GATE_JSON); 	else 		echo "A/B against the base commit instead: run both in this session, interleaved"; 		$(VENV)/bin/titans-kernels bench ab --base $(BENCH_BASE) -- benchmarks/ -m "not peer" $(PYTEST_ARGS); 	fi

report: setup
	$(VENV)/bin/titans-kernels report --results $(BENCH_JSON) --out docs/perf

# the README's recall table and docs/recall.png: each model trained at T=128 with a window of 32
RECALL_RUNS ?= mag:2000 mal:3000 mac:4000 lmm:3000 swa:1500
RECALL_FLAGS := --preset recall
recall: setup
	for run in $(RECALL_RUNS); do \
		$(VENV)/bin/titans-train --model $${run%%:*} --steps $${run##*:} $(RECALL_FLAGS) --out runs/recall/$${run%%:*} || exit 1; \
	done
	$(VENV)/bin/titans-train plot $(foreach r,$(RECALL_RUNS),runs/recall/$(firstword $(subst :, ,$(r)))) --out docs/recall.png

# the same task with the default deep memory (titans_mlp2_normalized) in place of titans_linear
RECALL_DEEP_RUNS ?= mag:2000 mal:3000 mac:3000
recall-deep: setup
	for run in $(RECALL_DEEP_RUNS); do \
		$(VENV)/bin/titans-train --model $${run%%:*} --steps $${run##*:} $(RECALL_FLAGS) --spec titans_mlp2_normalized \
			--eval-every 500 --out runs/recall-deep/$${run%%:*} || exit 1; \
	done
	$(VENV)/bin/titans-train plot $(foreach r,$(RECALL_DEEP_RUNS),runs/recall-deep/$(firstword $(subst :, ,$(r)))) \
		--out docs/recall_deep.png

# the same task, MAG, with rules from the Miras family next to the layer's default rule: SPEC:MAX_LR
# results in benchmarks/results/rules/, docs/recall_rules.md
RULES_RUNS ?= titans_mlp2_normalized:2.0 hebbian:2.0 elastic_net:2.0 atlas_omega:2.0 moneta:2.0
RULES_RESULTS := benchmarks/results/rules
recall-rules: setup
	for run in $(RULES_RUNS); do \
		$(VENV)/bin/titans-train --model mag --steps 2000 $(RECALL_FLAGS) --spec $${run%%:*} --max-lr $${run##*:} \
			--eval-every 500 --out runs/recall-rules/$${run%%:*} || exit 1; \
		mkdir -p $(RULES_RESULTS)/recall/$${run%%:*}; \
		cp runs/recall-rules/$${run%%:*}/results.json $(RULES_RESULTS)/recall/$${run%%:*}/; \
	done
	$(VENV)/bin/titans-train table $(foreach r,$(RULES_RUNS),$(RULES_RESULTS)/recall/$(firstword $(subst :, ,$(r)))) \
		> docs/recall_rules.md

# the same rules on text: MAG, language modeling on the project's own sources (lm-table's data and
# flags); docs/lm_rules.md
LM_RULES ?= titans_mlp2_normalized hebbian elastic_net moneta
lm-rules: setup
	$(VENV)/bin/titans-train prepare --data titans_kernels titans_models docs/design.md --out runs/lm/data
	for r in $(LM_RULES); do \
		$(VENV)/bin/titans-train --model mag $(LM_FLAGS) --spec $$r --out runs/lm-rules/$$r || exit 1; \
		mkdir -p $(RULES_RESULTS)/lm/$$r && cp runs/lm-rules/$$r/results.json $(RULES_RESULTS)/lm/$$r/; \
	done
	$(VENV)/bin/titans-train table $(foreach r,$(LM_RULES),$(RULES_RESULTS)/lm/$(r)) > docs/lm_rules.md

# language modeling on the project's own sources and docs (bytes): the README's loss-by-position table
LM_MODELS ?= mac mag mal swa attention
LM_FLAGS ?= --task lm --data runs/lm/data --seq-len 128 --window 32 --segment 32 --steps 300 --batch 8 \
	--lr 3e-3 --eval-every 100 --eval-batches 2 --eval-lengths 128,256,512,1024
lm-table: setup
	$(VENV)/bin/titans-train prepare --data titans_kernels titans_models docs/design.md --out runs/lm/data
	for m in $(LM_MODELS); do $(VENV)/bin/titans-train --model $$m $(LM_FLAGS) --out runs/lm/$$m || exit 1; done
	$(VENV)/bin/titans-train table $(foreach m,$(LM_MODELS),runs/lm/$(m)) | tee docs/lm_positions.md
	$(VENV)/bin/titans-train plot $(foreach m,$(LM_MODELS),runs/lm/$(m)) --out docs/lm_positions.png

# TileLang for a GPU machine that has no network: cp312 manylinux wheels (about 53 MB) in .whl/,
# which benchmarks/gpu/session.sh installs there when the folder travels with the call
GPU_WHEELS := tilelang==0.1.15 apache-tvm-ffi==0.1.12 torch-c-dlpack-ext==0.1.5
gpu-wheels:
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
		--platform manylinux2014_x86_64 -d .whl $(GPU_WHEELS)
	@ls -l .whl

clean:
	rm -rf $(VENV) $(TRITON36) build *.egg-info .pytest_cache .benchmarks
