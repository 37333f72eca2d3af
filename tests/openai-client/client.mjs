// OpenAI's Node client against an elang server, for tests/test_serve.c:
//   node client.mjs BASE_URL MODEL PROMPTS.json MAX_TOKENS
// prints {"models": [ids], "completion": {...}, "refused": {status, message}}:
// the model list, a completion of the prompts, and what the client reports
// for a request elang refuses (n = 2).
import { readFileSync } from "node:fs";
import OpenAI from "openai";

const [base, model, promptsFile, maxTokens] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0, timeout: 60000 });
const models = [];
for await (const m of client.models.list()) models.push(m.id);
const completion = await client.completions.create({
  model,
  prompt: JSON.parse(readFileSync(promptsFile, "utf8")),
  max_tokens: Number(maxTokens),
  temperature: 0,
});
let refused = null;
try {
  await client.completions.create({ model, prompt: "x", n: 2 });
} catch (e) {
  refused = { status: e.status, message: e.message };
}
console.log(JSON.stringify({ models, completion, refused }));
