// The llama.cpp peer of the Llama rows: bench/make_gguf.py's GGUF of the
// same weights, run by llama.cpp through node-llama-cpp (bench/llamacpp/,
// pinned, its prebuilt linux-x64 CPU binaries) on the prompt ids elang's
// tokenizer made, greedy, checked against elang F32's greedy ids.
//
//   node bench/llamacpp_llama.mjs GGUF IDS.jsonl --threads N --batch B --reps R --max-new M
//
// IDS.jsonl: one object per prompt with input_ids (the prompt, BOS
// included) and ids (elang F32's greedy continuation), as
// `elang generate --emit-ids` and bench_generate write them.
//
// The prompts are batched as elang batches them (longest first, ties in
// input order, B at a time; benchlib.batches), and a batch is B sequences
// of one llama.cpp context stepped in lockstep: each step asks every
// sequence's generator for its next token in the same event-loop turn and
// waits for all B, so node-llama-cpp, which gathers what its sequences
// queued before it dispatches, puts the step into one llama_decode: the B
// prompts together (the batch size is at least B times the longest
// prompt), then one token of each sequence per step. (Letting each
// sequence run on by itself splits steps into several decodes whenever
// one sequence's sampled token comes back after the dispatch.) No padding:
// each sequence is only as long as its own prompt. The decode calls are
// counted (decodes_t1, decodes_tM: batches and batches * M) to show it.
//
// Runs with UV_THREADPOOL_SIZE=1 (it starts itself again with it): in
// node-llama-cpp 3.21.1 each sequence's sampling is a separate task on
// libuv's thread pool, and when a decode held several sequences llama.cpp
// reorders their logits lazily on first access (output_reorder), which
// concurrent samplers race on: tokens then come from another sequence's
// logits (seen here at batch 8 under load). One pool thread runs the
// samplings one after another; the decode itself is unaffected (llama.cpp
// has its own THREADS compute threads).
//
// Two figures, each the median of REPS timed passes over all batches after
// one untimed pass, the sequences' key/value cache cleared between passes:
//   t1  prompt processing: evaluating the prompts and producing the next
//       token (prefill + 1 token);
//   tM  prefill + M greedy tokens.
// prompt_tokens_per_s = prompt tokens / t1 and decode_tokens_per_s =
// inputs * (M - 1) / (tM - t1), the derivation the elang and PyTorch rows
// use. Greedy is pure arg-max: temperature 0 (node-llama-cpp then samples
// with llama.cpp's greedy sampler alone), no repeat penalty, no token
// bias, no grammar; the end-of-generation token would be yielded and fed
// back (yieldEogToken), so every prompt gets exactly M tokens.
//
// Prints one JSON line like the other peers'.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// One libuv pool thread (see above); the pool starts before this code runs,
// so the variable has to be there when node starts.
if (process.env.UV_THREADPOOL_SIZE !== '1') {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
  });
  process.exit(child.status ?? 1);
}

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE_DIR = join(HERE, 'llamacpp', 'node_modules', 'node-llama-cpp');
const USAGE = 'usage: node bench/llamacpp_llama.mjs GGUF IDS.jsonl --threads N --batch B --reps R --max-new M';

function fail(message) {
  console.error(`llamacpp_llama.mjs: ${message}`);
  process.exit(2);
}

// ---- arguments
let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      threads: { type: 'string' }, batch: { type: 'string' }, reps: { type: 'string' }, 'max-new': { type: 'string' },
    },
  });
} catch (err) {
  fail(`${err.message}\n${USAGE}`);
}
if (args.positionals.length !== 2) fail(`expected GGUF and IDS.jsonl, got ${args.positionals.length} arguments\n${USAGE}`);
const [ggufPath, idsPath] = args.positionals;
const positiveInt = (name) => {
  const text = args.values[name];
  if (text === undefined) fail(`--${name} is required\n${USAGE}`);
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got '${text}'`);
  return n;
};
const threads = positiveInt('threads'), batchSize = positiveInt('batch'), reps = positiveInt('reps');
const maxNew = positiveInt('max-new');

let rows;
try {
  rows = readFileSync(idsPath, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    const row = JSON.parse(l);
    if (!Array.isArray(row.input_ids) || row.input_ids.length === 0 || !Array.isArray(row.ids)) {
      throw new Error(`line ${i + 1} has no input_ids or ids array`);
    }
    return row;
  });
} catch (err) {
  fail(`cannot read ${idsPath}: ${err.message}`);
}
if (rows.length === 0) fail(`${idsPath} has no prompts`);
try {
  accessSync(ggufPath, constants.R_OK); // llama.cpp maps it later, with a vaguer error
} catch (err) {
  fail(`cannot read ${ggufPath}: ${err.message}`);
}

let nlc;
try {
  nlc = await import(join(PACKAGE_DIR, 'dist', 'index.js'));
} catch (err) {
  fail(`node-llama-cpp is not installed in bench/llamacpp (cd bench/llamacpp && npm ci): ${err.message}`);
}
const { getLlama, LlamaLogLevel } = nlc;
const nlcVersion = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')).version;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;

// ---- llama.cpp: the prebuilt CPU binary only. build "never" and
// skipDownload: never compile llama.cpp or fetch its source; a missing or
// broken binary is an error. llama.cpp's warnings and errors go to stderr,
// stdout is the result line alone.
let llama, model;
try {
  llama = await getLlama({
    gpu: false, build: 'never', skipDownload: true, usePrebuiltBinaries: true, progressLogs: false,
    maxThreads: threads, logLevel: LlamaLogLevel.warn,
    logger: (level, message) => process.stderr.write(message.endsWith('\n') ? message : `${message}\n`),
  });
} catch (err) {
  fail(`node-llama-cpp found no working prebuilt llama.cpp binary (bench/llamacpp: npm ci): ${err.message}`);
}
try {
  model = await llama.loadModel({ modelPath: ggufPath, gpuLayers: 0 });
} catch (err) {
  fail(`llama.cpp cannot load ${ggufPath} (see its messages above; bench/make_gguf.py writes it): ${err.message}`);
}
const FILE_TYPES = { 0: 'f32', 1: 'f16', 32: 'bf16' };
const fileType = model.fileInfo.metadata?.general?.file_type;
const dtype = FILE_TYPES[fileType] ?? `file_type ${fileType}`;

// elang's batching (benchlib.batches): longest first, ties in input order.
const order = rows.map((_, i) => i).sort((a, b) => rows[b].input_ids.length - rows[a].input_ids.length || a - b);
const batches = [];
for (let s = 0; s < order.length; s += batchSize) batches.push(order.slice(s, s + batchSize));
const longest = rows[order[0]].input_ids.length;

// One context of B sequences, each with room for the longest prompt and M
// tokens; a batch of prompts fits one decode. Flash attention on: what
// llama.cpp's default ("auto") chooses on this CPU. The key/value cache is
// llama.cpp's default F16.
const context = await model.createContext({
  sequences: batchSize, contextSize: longest + maxNew, batchSize: batchSize * longest,
  threads, flashAttention: true,
});
const sequences = Array.from({ length: batchSize }, () => context.getSequence());

// Counts and times node-llama-cpp's calls of llama_decode (its internal
// binding, used for this check only): the decodes per pass show whether a
// batch really went in one decode per step, and the time outside them is
// the JavaScript and sampling overhead around llama.cpp.
const decodes = { calls: 0, seconds: 0 };
const binding = context._ctx;
const counting = Boolean(binding) && typeof binding.decodeBatch === 'function';
if (counting) {
  // The binding's methods are read-only on its prototype: an own property
  // of the instance shadows it.
  const decodeBatch = binding.decodeBatch.bind(binding);
  Object.defineProperty(binding, 'decodeBatch', {
    value: async () => {
      const t0 = now();
      try {
        return await decodeBatch();
      } finally {
        decodes.calls++;
        decodes.seconds += now() - t0;
      }
    },
  });
}

const SAMPLING = {
  temperature: 0, // greedy: llama.cpp's arg-max sampler, nothing else in the chain
  topK: 0, topP: 1, minP: 0, // neutral (unused by the greedy chain, set anyway)
  seed: 0,
  repeatPenalty: { punishTokens: [], penalty: 1, frequencyPenalty: 0, presencePenalty: 0 }, // off
  yieldEogToken: true, // never stop early: an end-of-generation token is yielded and fed back
};

// The first `count` greedy tokens after each prompt of a batch, its
// sequences stepped in lockstep (one decode per step).
async function generate(batch, count) {
  const steps = batch.map((i, j) => sequences[j].evaluate(rows[i].input_ids, SAMPLING));
  const outs = batch.map(() => []);
  for (let k = 0; k < count; k++) {
    const next = await Promise.all(steps.map((it) => it.next()));
    next.forEach((r, j) => {
      if (r.done) fail(`prompt ${batch[j]} stopped after ${k} tokens`);
      outs[j].push(r.value);
    });
  }
  await Promise.all(steps.map((it) => it.return()));
  return outs;
}

// One pass over all batches producing `count` tokens per prompt: the
// seconds spent in the batches' evaluation (clearing the caches afterwards
// is not timed), the decodes and their seconds, and the tokens.
async function pass(count) {
  let seconds = 0;
  const before = { ...decodes };
  const outputs = new Map();
  for (const batch of batches) {
    const t0 = now();
    const outs = await generate(batch, count);
    seconds += now() - t0;
    batch.forEach((i, j) => outputs.set(i, outs[j]));
    await Promise.all(sequences.map((s) => s.clearHistory()));
  }
  return { seconds, decodeCalls: decodes.calls - before.calls, decodeSeconds: decodes.seconds - before.seconds, outputs };
}

const t1Runs = [], tMRuns = [], tMOutside = [];
let t1Pass, tMPass;
for (let r = 0; r <= reps; r++) {
  t1Pass = await pass(1);
  tMPass = await pass(maxNew);
  if (r > 0) {
    t1Runs.push(t1Pass.seconds);
    tMRuns.push(tMPass.seconds);
    tMOutside.push(tMPass.seconds - tMPass.decodeSeconds);
  }
}
for (const [i, ids] of tMPass.outputs) {
  if (ids.length !== maxNew) fail(`prompt ${i} got ${ids.length} tokens, not ${maxNew}`);
}

// Agreement with elang F32: whole continuations (the file's first M ids),
// and the fewest leading tokens that agree in any prompt.
let same = 0, minPrefix = maxNew;
rows.forEach((row, i) => {
  const ours = tMPass.outputs.get(i), theirs = row.ids.slice(0, maxNew);
  let k = 0;
  while (k < ours.length && ours[k] === theirs[k]) k++;
  if (k === ours.length && theirs.length === ours.length) same++;
  minPrefix = Math.min(minPrefix, k);
});

// The CPU variant of ggml the binary picked for this processor (the
// prebuilt package ships one per instruction-set level).
let ggmlCpu = null;
try {
  const m = readFileSync('/proc/self/maps', 'utf8').match(/libggml-cpu-([\w-]+)\.so/);
  if (m) ggmlCpu = m[1];
} catch { /* not Linux */ }

const promptTokens = rows.reduce((n, row) => n + row.input_ids.length, 0);
const t1 = median(t1Runs), tM = median(tMRuns);
const steps = batches.length * maxNew; // decode steps of a tM pass, one per batch and token
const result = {
  engine: 'llamacpp', dtype, threads: context.currentThreads, batch: batchSize, inputs: rows.length,
  prompt_tokens: promptTokens, tokens: rows.length * maxNew, max_new_tokens: maxNew,
  t1_runs: t1Runs.map((x) => +x.toFixed(4)), t1: +t1.toFixed(4),
  tM_runs: tMRuns.map((x) => +x.toFixed(4)), tM: +tM.toFixed(4),
  prompt_tokens_per_s: +(promptTokens / t1).toFixed(2),
  decode_tokens_per_s: maxNew > 1 ? +((rows.length * (maxNew - 1)) / (tM - t1)).toFixed(2) : null,
  same_ids_as_elang: same, min_same_prefix: minPrefix,
  // null where this node-llama-cpp's binding could not be wrapped
  decodes_t1: counting ? t1Pass.decodeCalls : null, decodes_tM: counting ? tMPass.decodeCalls : null,
  ms_outside_decode_per_step: counting ? +((median(tMOutside) / steps) * 1e3).toFixed(3) : null,
  flash_attention: context.flashAttention, kv_cache: 'f16',
  node_llama_cpp: nlcVersion, llamacpp: llama.llamaCppRelease.release, ggml_cpu: ggmlCpu,
  build: llama.buildType, node: process.version, env: { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE },
};
result.peak_rss_mb = +(process.resourceUsage().maxRSS / 1024).toFixed(1);
console.log(JSON.stringify(result));
await context.dispose();
await model.dispose();
await llama.dispose();
