#!/usr/bin/env bash
# Mutation check: does the suite notice when the arithmetic that E-LANG's
# results rest on goes wrong? Each mutant below is one small, plausible bug
# (a flipped comparison, a dropped factor, a sign) in the energy and scores,
# the routing rule, the aggregation, the metrics, threshold selection, the
# report and the calibration file. Each is applied in turn to a copy of the
# working tree, built, and the tests named beside it run: every mutant must
# make one of them fail. The last line is `N caught, N survived`.
#
# Usage: tests/mutants.sh [BUILD]   (BUILD defaults to build; its objects are
# reused, so run it after `make`.)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
export ELANG_SHARED="${ELANG_SHARED:-$(cd "$root/.." && pwd)/shared}"

work=$(mktemp -d /tmp/elang-mutants-XXXXXX)
trap 'rm -rf "$work"' EXIT
# The tracked files and the objects already built, times preserved so that
# make rebuilds only what a mutant touches.
(cd "$root" && git ls-files -z | xargs -0 cp --parents -p -t "$work")
[ -d "$root/$build" ] && cp -rp "$root/$build" "$work/$build"

# file | exact text | replacement | tests that must catch it | what the bug is
mutants=(
"src/core/scores.c|return st.max == -INFINITY ? -INFINITY : st.max + temperature * log(st.z_t);|return st.max == -INFINITY ? -INFINITY : st.max + log(st.z_t);|test_route test_classify|the energy ignores its temperature"
"src/core/scores.c|out[ELANG_SCORE_MAXPROB] = (float)p1;|out[ELANG_SCORE_MAXPROB] = (float)p2;|test_route|maxprob takes the second probability"
"src/core/kernels_impl.h|            zt += unit_t ? e : vselect(live, vexp(d * inv_t), vset(0.0f));|            zt += unit_t ? e : vselect(live, vexp(d), vset(0.0f));|test_kernels test_generate|the vector energy ignores its temperature"
"src/core/scores.c|out[ELANG_SCORE_ENTROPY] = (float)(st->wx / st->z - log(st->z));|out[ELANG_SCORE_ENTROPY] = (float)(log(st->z) - st->wx / st->z);|test_route|entropy not negated (higher would mean less sure)"
"src/core/scores.c|out[ELANG_SCORE_MARGIN] = (float)(p1 - p2);|out[ELANG_SCORE_MARGIN] = (float)(p1 + p2);|test_route|margin adds the top two"
"src/core/scores.c|out[ELANG_SCORE_SOFTMAX_ENERGY] = (float)(temperature * log(st->soft));|out[ELANG_SCORE_SOFTMAX_ENERGY] = (float)(log(st->soft) / temperature);|test_route|softmax-energy divides by T"
"src/route/rule.c|return score >= threshold;|return score > threshold;|test_route test_route_cli|a score at the threshold goes to Super"
"src/route/aggregate.c|if (a == ELANG_AGG_MIN) acc = v < acc ? v : acc;|if (a == ELANG_AGG_MIN) acc = v > acc ? v : acc;|test_route|min aggregation takes the max"
"src/route/aggregate.c|return a == ELANG_AGG_MEAN ? acc / count : acc;|return a == ELANG_AGG_MEAN ? acc / (count + 1) : acc;|test_route|mean divides by one too many"
"src/api/generate.c|        memcpy(cls[i].logits, picked + i * (size_t)k, sizeof(float) * (size_t)k);|        memcpy(cls[i].logits, picked + (n - 1 - i) * (size_t)k, sizeof(float) * (size_t)k);|test_cli|classification by label words hands a batch its logits in reverse"
"src/api/classify.c|if (o->logits[j] > max) max = o->logits[best = j];|if (o->logits[j] < max) max = o->logits[best = j];|test_classify test_cli test_route|the label (a classifier's, or a generator's by label words) is the argmin"
"src/eval/metrics.c|for (size_t i = 0; i < n; i++) correct += pred[i] == label[i];|for (size_t i = 1; i < n; i++) correct += pred[i] == label[i];|test_metrics|accuracy skips the first example"
"src/eval/metrics.c|size_t denom = 2 * tp + fp + fn;|size_t denom = 2 * tp + fp;|test_metrics|F1 forgets the false negatives"
"src/eval/metrics.c|double cov_ytyp = correct * s - tp,|double cov_ytyp = tp - correct * s,|test_metrics|MCC with its sign flipped"
"src/eval/sweep.c|const bool fa = a->metric >= super_metric - obj->value - 1e-12, fb = b->metric >= super_metric - obj->value - 1e-12;|const bool fa = a->metric >= super_metric + obj->value - 1e-12, fb = b->metric >= super_metric + obj->value - 1e-12;|test_route|match-super:EPS demands EPS above Super"
"src/eval/sweep.c|if (a->metric != b->metric) return a->metric > b->metric;|if (a->metric != b->metric) return a->metric < b->metric;|test_route|max-metric picks the worst point"
"src/eval/bootstrap.c|    return elang >= super - 1e-12 |    return elang <= super + 1e-12 |test_route|match-super-bootstrap counts the resamples where E-LANG trails Super"
"src/eval/bootstrap.c|if (x->gflops != y->gflops) return (x->gflops > y->gflops) - (x->gflops < y->gflops);|if (x->gflops != y->gflops) return (x->gflops < y->gflops) - (x->gflops > y->gflops);|test_route|match-super-bootstrap tries the dearest point first"
"src/eval/bootstrap.c|        if (st == ELANG_OK) d[b] = e - s;|        if (st == ELANG_OK) d[b] = s - e;|test_route|the resampled gap is Super's lead, not E-LANG's"
"src/eval/bootstrap.c|const size_t tail = (size_t)floor(0.025 * m);|const size_t tail = (size_t)floor(0.05 * m);|test_route|the gap's interval is a 90% one"
"src/eval/bootstrap.c|        for (size_t t = 0; t < tasks; t++) sum += resampled[t][b];|        for (size_t t = 0; t < tasks; t++) sum += resampled[t][0];|test_route test_demo|the mean over tasks takes every task's first resample"
"src/eval/report.c|c->apgr += (p->super_rate - q->super_rate) * 0.5 * (g + pgr(q->metric, swift, super));|c->apgr += (p->super_rate - q->super_rate) * (g + pgr(q->metric, swift, super));|test_route|APGR's trapezoids twice as tall"
"src/eval/calibration_file.c|\"elang_calibration\", 2, \"threshold\", number(c->threshold),|\"elang_calibration\", 2, \"threshold\", number(c->gflops),|test_route|the calibration saves the wrong number as threshold"
"src/eval/calibration_file.c|    if (json_integer_value(version) == 1) return ELANG_OK;|    if (json_integer_value(version) >= 1) return ELANG_OK;|test_route_cli|a calibration's paths read from the working directory, not from its folder"
"src/route/router.c|            else if (early) keep[kept++] = pending[j];|            if (early) keep[kept++] = pending[j];|test_head test_route|a decision before decoding decodes the inputs it sends on too"
"src/eval/pair_run.c|        sum += pass + (on_swift[i] ? answer : it->super_gflops);|        sum += pass + (on_swift[i] ? answer : answer + it->super_gflops);|test_route|a decision before decoding is charged Swift's answer on the inputs it passes on"
"src/models/encoder_head.c|        hidden[j] = s > 0.0 ? s : 0.0;|        hidden[j] = s;|test_head|the head's ReLU is missing"
"src/eval/pair_run.c|        const double answer = decided_after ? 0.0 : it->swift_gflops;|        const double answer = decided_after ? 0.0 : it->swift_gflops - pass;|test_route|a kept input decided on its prompt is not charged the prompt its decoding runs again"
"src/models/encoder_head.c|    for (int i = 0; i < k; i++) sum += exp((y[outputs ? outputs[i] : i] - top) / temperature);|    for (int i = 0; i < k; i++) sum += exp((y[i] - top) / temperature);|test_head|a label-word head scores its first outputs, not the words the routing names"
"src/eval/bleu.c|if (s->hyp_len < s->ref_len) r.bp = s->hyp_len > 0 ? exp(1.0 - ref_len / hyp_len) : 0.0;|if (s->hyp_len < s->ref_len) r.bp = 1.0;|test_bleu|BLEU without its brevity penalty"
"src/route/router.c|for (size_t j = 0; j < count; j++) out[pending[j]].degraded = true;|for (size_t j = 0; j < count; j++) out[pending[j]].degraded = false;|test_route|a failed remote tier's inputs not marked degraded"
"src/serve/batcher.c|            b->slots[count] = j->taken;|            b->slots[count] = j->n - 1 - j->taken;|test_serve|the server hands a request's answers back in reverse"
"src/core/rope.c|            x2[i] = b * c[i] + a * s[i];|            x2[i] = b * c[i] - a * s[i];|test_causal|rotary embeddings turn the second half the wrong way"
"src/core/attention.c|const long kv = b * a->kv_batch_stride + (long)(h / group) * dh;|const long kv = b * a->kv_batch_stride + (long)(h % kv_heads(a) + 0 * group) * dh;|test_causal|grouped-query heads read the wrong key/value head"
"src/models/transformer.c|            pos[(size_t)r * n + i] = real ? next++ : 0;|            pos[(size_t)r * n + i] = c->steps + i + 0 * (real ? next++ : 0);|test_causal|a left-padded prompt's positions count its padding"
"src/core/threads.c|    if (others < 0.5) return n;|    if (others > 0.5) return n;|test_cpu_load|a model keeps all its threads while other processes hold its CPUs"
"src/core/cpu_load.c|    const double others = ((double)(busy_after - busy_before) - (double)(own_after - own_before)) / hz / seconds;|    const double others = (double)(busy_after - busy_before) / hz / seconds;|test_cpu_load|the process's own CPU time counts as other processes'"
"src/eval/pair_run.c|        const double pass = decided_after ? it->swift_gflops : it->decision_gflops[d];|        const double pass = d != ELANG_DECIDE_BY_HEAD ? it->swift_gflops : it->decision_gflops[d];|test_route|a routed input decided on its prompt costs Swift its whole run"
"src/serve/openai_remote.c|        elang_answer *a = &out[idx[json_integer_value(index)]];|        elang_answer *a = &out[idx[k + 0 * json_integer_value(index)]];|test_openai|an OpenAI server's choices taken by position, not by index"
"src/serve/remote.c|    for (int attempt = 0; attempt <= r->opts.retries; attempt++) {|    for (int attempt = 0; attempt < r->opts.retries; attempt++) {|test_route_cli|a remote Super is called one time too few"
"src/serve/openai.c|        const char *finish = cut < 0 && g->num_steps >= info->max_new_tokens ? \"length\" : \"stop\";|        const char *finish = cut < 0 && g->num_steps > info->max_new_tokens ? \"length\" : \"stop\";|test_openai|a completion that took all its tokens reported as stopped"
)

# The control: without a mutant, every test named above passes in the copy.
# Otherwise a "catch" would mean nothing.
all_tests=$(for spec in "${mutants[@]}"; do IFS='|' read -r _ _ _ tests _ <<<"$spec"; echo $tests; done | tr ' ' '\n' | sort -u)
targets=""
for t in $all_tests; do targets+=" $build/tests/$t"; done
if ! make -C "$work" --no-print-directory BUILD="$build" $targets "$build/elang" >"$work/make.log" 2>&1; then
    cat "$work/make.log"
    echo "mutants: the unmutated copy does not build"
    exit 1
fi
for t in $all_tests; do
    if ! (cd "$work" && ELANG_BIN="$work/$build/elang" "$build/tests/$t" >"$work/test.log" 2>&1); then
        cat "$work/test.log"
        echo "mutants: $t fails without any mutant; fix the suite first"
        exit 1
    fi
done

caught=0 survived=0
for spec in "${mutants[@]}"; do
    IFS='|' read -r file from to tests what <<<"$spec"
    cp -p "$work/$file" "$work/$file.orig"
    if ! python3 - "$work/$file" "$from" "$to" <<'EOF'
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: the mutant's text occurs {text.count(old)} times, not once")
open(path, "w").write(text.replace(old, new))
EOF
    then
        echo "BROKEN   $file: $what (the code changed; update tests/mutants.sh)"
        survived=$((survived + 1))
        mv "$work/$file.orig" "$work/$file"
        continue
    fi
    targets=""
    for t in $tests; do targets+=" $build/tests/$t"; done
    verdict="SURVIVED"
    if ! make -C "$work" --no-print-directory BUILD="$build" $targets "$build/elang" >"$work/make.log" 2>&1; then
        verdict="caught (does not build)"
    else
        for t in $tests; do
            if ! (cd "$work" && ELANG_BIN="$work/$build/elang" "$build/tests/$t" >"$work/test.log" 2>&1); then
                verdict="caught by $t"
                break
            fi
        done
    fi
    printf '%-36s %-24s %s\n' "$verdict" "$file" "$what"
    if [ "$verdict" = SURVIVED ]; then survived=$((survived + 1)); else caught=$((caught + 1)); fi
    mv "$work/$file.orig" "$work/$file"
    touch "$work/$file"
done
echo "$caught caught, $survived survived"
[ "$survived" -eq 0 ]
