// The ONNX Runtime peer of the BERT rows: bench/export_onnx.py's graph of the
// same weights, run by onnxruntime-node (bench/ort/, pinned) on the CPU
// execution provider with ONNX Runtime's default session options (default
// graph optimizations, which fuse what they recognise) except the intra-op
// thread count, which is the benchmark's. The batches are elang's
// (bench/benchlib.py batches: longest first, the same padding), the logits
// are checked against elang's F32 ones.
//
//   node bench/ort_bert.mjs MODEL.onnx BATCHES.json IDS.jsonl THREADS REPS
//
// Prints one JSON line like bench_classify's: the median pass (REPS timed
// passes after one untimed), inputs/s, with batches of one input the median
// latency of the single-input calls, the largest |logit - elang's| and the
// peak resident memory.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), 'ort', 'package.json'));
const ort = require('onnxruntime-node');

const [model, batchesPath, idsPath, threadsArg, repsArg] = process.argv.slice(2);
if (!repsArg) {
  console.error('usage: node bench/ort_bert.mjs MODEL.onnx BATCHES.json IDS.jsonl THREADS REPS');
  process.exit(2);
}
const threads = Number(threadsArg), reps = Number(repsArg);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
const rows = readFileSync(idsPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
// Tensors built once, outside the timing, as the PyTorch peer's are.
const batches = JSON.parse(readFileSync(batchesPath, 'utf8')).map((b) => {
  const dims = [b.input_ids.length, b.input_ids[0].length];
  const tensor = (m) => new ort.Tensor('int64', BigInt64Array.from(m.flat(), (x) => BigInt(x)), dims);
  return { rows: b.rows, feeds: { input_ids: tensor(b.input_ids), attention_mask: tensor(b.attention_mask) } };
});
const single = batches.every((b) => b.rows.length === 1);

const passes = [], calls = [], logits = new Map();
for (let r = 0; r <= reps; r++) {
  let total = 0;
  for (const b of batches) {
    const t0 = process.hrtime.bigint();
    const out = await session.run(b.feeds);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    total += seconds;
    if (r > 0 && single) calls.push(seconds);
    const L = out.logits.dims[1];
    b.rows.forEach((i, row) => logits.set(i, Array.from(out.logits.data.slice(row * L, (row + 1) * L))));
  }
  if (r > 0) passes.push(total);
}
let diff = 0;
rows.forEach((row, i) => row.logits.forEach((x, l) => { diff = Math.max(diff, Math.abs(x - logits.get(i)[l])); }));
const s = median(passes);
const result = {
  engine: 'onnxruntime', dtype: 'f32', threads, batch: Math.max(...batches.map((b) => b.rows.length)),
  inputs: rows.length, runs: passes.map((x) => +x.toFixed(4)), seconds: +s.toFixed(4),
  inputs_per_s: +(rows.length / s).toFixed(2), max_logit_diff_vs_elang_f32: diff,
  onnxruntime: ort.env.versions.node,
};
if (single) result.latency_ms = +(median(calls) * 1e3).toFixed(3);
result.peak_rss_mb = +(process.resourceUsage().maxRSS / 1024).toFixed(1);
console.log(JSON.stringify(result));
