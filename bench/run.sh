#!/usr/bin/env bash
# elang's benchmark: one table of elang (F32, BF16, INT8) against PyTorch and
# ONNX Runtime on the same machine in the same run, medians of REPS runs,
# with the machine's measured GEMM peaks and memory bandwidth beside them.
# See bench/README.md for what each row measures.
#
#   make bench                 (= make bench-bin && bench/run.sh)
#   REPS=5 THREADS_LIST="1 2" DEMO=1 bench/run.sh
#
# Environment:
#   REPS          timed runs per figure (median), default 5
#   THREADS_LIST  thread counts, default "1 2"
#   ROWS          which rows, default "peaks sst2 lat128 b128 t5 llama demo serve"
#   DEMO=0        skip the demo pairs (same as leaving demo out of ROWS)
#   DEMO_REPS     runs of each demo evaluation, default REPS
#   ORT=0         skip ONNX Runtime;  TORCH=0  skip PyTorch
#   SST2_LIMIT    only the first N SST-2 sentences (a quick check; the
#                 table's title still says 872: don't publish such a run)
#   APPEND=1      add the ROWS measured to the last run's results, replacing
#                 their earlier figures
#   DISTURBED, RETRIES, IDLE_WAIT   see bench/measure.py
#   BUILD         the build folder the binaries come from, default build
#                 (as in the Makefile: make BUILD=DIR bench-bin)
#   BENCH_DIR     work directory, default /tmp/elang-bench
#   PYTHON        the Python with torch, default /usr/bin/python3
#   ELANG_SHARED  the shared data and fixtures, default ../shared
#
# Writes BENCH_DIR/results.jsonl (every measurement), BENCH_DIR/results.md
# (the table, also printed).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
THREADS_LIST=${THREADS_LIST:-1 2}
ROWS=${ROWS:-peaks sst2 lat128 b128 t5 llama demo serve}
[ "${DEMO:-1}" = 0 ] && ROWS=${ROWS//demo/}
DEMO_REPS=${DEMO_REPS:-$REPS}
WORK=${BENCH_DIR:-/tmp/elang-bench}
B=${BUILD:-build}
PY=${PYTHON:-/usr/bin/python3}
SHARED=${ELANG_SHARED:-$(cd .. && pwd)/shared}
LAT_INPUTS=${LAT_INPUTS:-16}   # 128-token texts timed one by one
T5_B1_INPUTS=${T5_B1_INPUTS:-4} # sources decoded one at a time
MAX_NEW=64
LLAMA_B1_INPUTS=${LLAMA_B1_INPUTS:-2} # 128-token prompts continued one at a time
LLAMA_B8_INPUTS=${LLAMA_B8_INPUTS:-8} # and in one batch of 8
T5_PREFIX="translate English to German: "
RESULTS=$WORK/results.jsonl
mkdir -p "$WORK"
# APPEND=1 measures the ROWS asked for again and adds them to the last run's
# results, where they replace the earlier figures (e.g. rows that a busy
# machine disturbed); the machine record stays the first run's.
if [ "${APPEND:-0}" != 1 ] || [ ! -f "$RESULTS" ]; then
    : >"$RESULTS"
    APPEND=0
fi

has_row() { [[ " $ROWS " == *" $1 "* ]]; }
measure() { # measure TAGS_JSON COMMAND... : one measurement into $RESULTS
    local tags=$1
    shift
    "$PY" bench/measure.py "$RESULTS" "$tags" -- "$@" >/dev/null
}
note() { # note KEY VALUE: a fact for the table (e.g. why a peer is missing)
    printf '{"row": "note", "key": "%s", "value": "%s"}\n' "$1" "${2//\"/\'}" >>"$RESULTS"
}

for bin in "$B"/elang "$B"/bench/bench_classify "$B"/bench/bench_generate "$B"/bench/gemm_peak "$B"/bench/membw; do
    [ -x "$bin" ] || { echo "run.sh: $bin missing: run make BUILD=$B bench-bin first" >&2; exit 1; }
done
[ "$APPEND" = 1 ] || "$PY" bench/report.py machine "$WORK/machine.json" "$THREADS_LIST" "$REPS"

# ---- models and inputs (remade when their writer changed)
if [ ! -f "$WORK/bert-base/model.safetensors" ] || [ bench/make_model.py -nt "$WORK/bert-base/model.safetensors" ]; then
    "$PY" bench/make_model.py bert "$WORK/bert-base" --shared "$SHARED"
fi
if [ ! -f "$WORK/t5-small/model.safetensors" ] || [ bench/make_model.py -nt "$WORK/t5-small/model.safetensors" ]; then
    "$PY" bench/make_model.py t5 "$WORK/t5-small" --shared "$SHARED"
fi
if has_row llama && { [ ! -f "$WORK/llama100m/model.safetensors" ] || [ bench/make_model.py -nt "$WORK/llama100m/model.safetensors" ]; }; then
    "$PY" bench/make_model.py llama "$WORK/llama100m" --shared "$SHARED"
fi
"$PY" bench/make_inputs.py "$WORK" --shared "$SHARED" --long 64 --sources 32 --prompts 16
if [ -n "${SST2_LIMIT:-}" ]; then # a quick run on the first SST2_LIMIT sentences
    head -n "$SST2_LIMIT" "$WORK/sst2-dev.jsonl" >"$WORK/sst2-dev.part" && mv "$WORK/sst2-dev.part" "$WORK/sst2-dev.jsonl"
fi
head -n "$LAT_INPUTS" "$WORK/bert128.jsonl" >"$WORK/bert128-lat.jsonl"
head -n "$T5_B1_INPUTS" "$WORK/multi30k-en.jsonl" >"$WORK/multi30k-en-b1.jsonl"
head -n "$LLAMA_B1_INPUTS" "$WORK/llama128.jsonl" >"$WORK/llama128-b1.jsonl"
head -n "$LLAMA_B8_INPUTS" "$WORK/llama128.jsonl" >"$WORK/llama128-b8.jsonl"

# ---- the peers' setup; a peer that cannot run is noted, not fatal
TORCH=${TORCH:-1}
if [ "$TORCH" = 1 ] && ! "$PY" -c 'import torch' 2>/dev/null; then
    note torch "not measured: $PY cannot import torch"
    TORCH=0
fi
ORT=${ORT:-1}
if [ "$ORT" = 1 ]; then
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        note onnxruntime "not measured: node or npm is not installed"
        ORT=0
    elif [ ! -d bench/ort/node_modules/onnxruntime-node ] || [ bench/ort/package-lock.json -nt bench/ort/node_modules ]; then
        if ! (cd bench/ort && npm ci --no-audit --no-fund >"$WORK/npm-ci.log" 2>&1); then
            note onnxruntime "not measured: npm ci failed, see $WORK/npm-ci.log: $(tail -n 3 "$WORK/npm-ci.log" | tr '\n' ' ')"
            ORT=0
        fi
    fi
    if [ "$ORT" = 1 ] && { [ ! -f "$WORK/bert-base.onnx" ] || [ "$WORK/bert-base/model.safetensors" -nt "$WORK/bert-base.onnx" ]; }; then
        if ! "$PY" bench/export_onnx.py "$WORK/bert-base" "$WORK/bert-base.onnx" 2>"$WORK/export.log"; then
            note onnxruntime "not measured: torch.onnx.export failed, see $WORK/export.log"
            ORT=0
        fi
    fi
fi

# ---- rows
# A BERT row: elang in each dtype (F32 first: it writes the ids and logits
# the peers run on and are checked against), then each peer.
bert_row() { # bert_row ROW INPUTS BATCH THREADS
    local row=$1 inputs=$2 batch=$3 t=$4 ids="$WORK/$1-t$4-ids.jsonl"
    local tags="{\"row\": \"$row\", \"batch\": $batch, \"threads\": $t}"
    echo "== $row, batch $batch, $t thread(s)" >&2
    measure "$tags" "$B"/bench/bench_classify "$WORK/bert-base" "$inputs" "$t" "$batch" "$REPS" f32 "$ids"
    for dt in bf16 int8; do
        measure "$tags" "$B"/bench/bench_classify "$WORK/bert-base" "$inputs" "$t" "$batch" "$REPS" "$dt"
    done
    if [ "$TORCH" = 1 ]; then
        for dt in f32 bf16 int8; do
            measure "$tags" "$PY" bench/torch_bert.py "$WORK/bert-base" "$ids" --threads "$t" --batch "$batch" \
                --reps "$REPS" --dtype "$dt"
        done
    fi
    if [ "$ORT" = 1 ]; then
        "$PY" bench/benchlib.py batches "$ids" "$batch" "$WORK/$row-t$t-batches.json"
        measure "$tags" node bench/ort_bert.mjs "$WORK/bert-base.onnx" "$WORK/$row-t$t-batches.json" "$ids" "$t" "$REPS"
    fi
}

t5_row() { # t5_row ROW SOURCES BATCH THREADS
    local row=$1 inputs=$2 batch=$3 t=$4 ids="$WORK/$1-t$4-gen.jsonl"
    local tags="{\"row\": \"$row\", \"batch\": $batch, \"threads\": $t}"
    echo "== $row, batch $batch, $t thread(s)" >&2
    measure "$tags" "$B"/bench/bench_generate "$WORK/t5-small" "$inputs" "$t" "$batch" "$REPS" f32 "$MAX_NEW" \
        "$T5_PREFIX" "$ids"
    for dt in bf16 int8; do
        measure "$tags" "$B"/bench/bench_generate "$WORK/t5-small" "$inputs" "$t" "$batch" "$REPS" "$dt" "$MAX_NEW" \
            "$T5_PREFIX"
    done
    if [ "$TORCH" = 1 ]; then
        for dt in f32 bf16 int8; do
            measure "$tags" "$PY" bench/torch_t5.py "$WORK/t5-small" "$ids" --threads "$t" --batch "$batch" \
                --reps "$REPS" --dtype "$dt" --max-new "$MAX_NEW"
        done
    fi
}

# A Llama row: elang F32 (its ids are the peers' prompts and their check),
# BF16 and INT8, then PyTorch and llama.cpp in F32 and BF16.
llama_row() { # llama_row ROW PROMPTS BATCH THREADS
    local row=$1 inputs=$2 batch=$3 t=$4 ids="$WORK/$1-t$4-gen.jsonl"
    local tags="{\"row\": \"$row\", \"batch\": $batch, \"threads\": $t}"
    echo "== $row, batch $batch, $t thread(s)" >&2
    measure "$tags" "$B"/bench/bench_generate "$WORK/llama100m" "$inputs" "$t" "$batch" "$REPS" f32 "$MAX_NEW" "" "$ids"
    for dt in bf16 int8; do
        measure "$tags" "$B"/bench/bench_generate "$WORK/llama100m" "$inputs" "$t" "$batch" "$REPS" "$dt" "$MAX_NEW" ""
    done
    for dt in f32 bf16; do
        if [ "$TORCH" = 1 ]; then
            measure "$tags" "$PY" bench/torch_llama.py "$WORK/llama100m" "$ids" --threads "$t" --batch "$batch" \
                --reps "$REPS" --dtype "$dt" --max-new "$MAX_NEW"
        fi
    done
}

for t in $THREADS_LIST; do
    if has_row peaks; then
        echo "== peaks, $t thread(s)" >&2
        measure "{\"row\": \"gemm\", \"threads\": $t}" "$B"/bench/gemm_peak "$t"
        measure "{\"row\": \"membw\", \"threads\": $t}" "$B"/bench/membw "$t"
    fi
    has_row sst2 && bert_row sst2 "$WORK/sst2-dev.jsonl" 32 "$t"
    has_row lat128 && bert_row lat128 "$WORK/bert128-lat.jsonl" 1 "$t"
    has_row b128 && bert_row b128 "$WORK/bert128.jsonl" 32 "$t"
    if has_row t5; then
        t5_row t5b1 "$WORK/multi30k-en-b1.jsonl" 1 "$t"
        t5_row t5b16 "$WORK/multi30k-en.jsonl" 16 "$t"
    fi
    if has_row llama; then
        llama_row llamab1 "$WORK/llama128-b1.jsonl" 1 "$t"
        llama_row llamab8 "$WORK/llama128-b8.jsonl" 8 "$t"
    fi
    if has_row demo; then
        for pair in sst2 multi30k; do
            for dt in f32 bf16 int8; do
                echo "== demo $pair $dt, $t thread(s)" >&2
                measure "{\"row\": \"demo\", \"threads\": $t}" "$PY" bench/demo_pair.py "$B"/elang "$pair" "$SHARED/data" \
                    "$WORK/demo" "$t" "$dt" "$DEMO_REPS"
            done
        done
    fi
done

"$PY" bench/report.py table "$RESULTS" "$WORK/machine.json" "$WORK/t5-small/config.json" "$WORK/results.md" \
    "$WORK/llama100m/config.json"

# ---- serving (row "serve"): elang serve against the CLI and the library on
# the SST-2 demo pair, at 1, 8 and 64 clients (bench/serve_bench.c), with the
# default flags and with --batch-size 8 (the better forward batch for these
# small models, for the CLI too); its own records and table, appended.
if has_row serve; then
    [ -x "$B"/bench/serve_bench ] || { echo "run.sh: $B/bench/serve_bench missing: make BUILD=$B bench-bin" >&2; exit 1; }
    SERVE_RESULTS=$WORK/serve.jsonl
    : >"$SERVE_RESULTS"
    "$PY" -c 'import json, sys; [print(json.loads(l)["text"]) for l in open(sys.argv[1])]' "$WORK/sst2-dev.jsonl" \
        >"$WORK/sst2-dev.txt"
    for t in $THREADS_LIST; do
        for flags in "" "--batch-size 8"; do
            echo "== serve, $t thread(s)${flags:+, $flags}" >&2
            REPS=$REPS MODEL_FLAGS="$flags" "$B"/bench/serve_bench "$B"/elang models/sst2-swift models/sst2-super \
                models/sst2.calib.json "$WORK/sst2-dev.txt" "$t" "1 8 64" | grep '^{' >>"$SERVE_RESULTS"
        done
    done
    "$PY" bench/report.py serve "$SERVE_RESULTS" | tee -a "$WORK/results.md"
fi
