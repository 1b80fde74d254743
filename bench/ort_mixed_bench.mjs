// ONNX Runtime (CPU) on mixed-length inputs: the SciFact side of bench/encoder_bench.sh.
// usage: node ort_mixed_bench.mjs MODEL.onnx IDS.jsonl [--threads N] [--batch 32] [--seconds 5]
// IDS.jsonl holds {"input_ids": [...]} per text (written by encoder_bench --write-ids). Texts are sorted
// by length and cut into batches of neighbours, each padded to its own longest text with the attention
// mask set: the most favourable batching for the peer, the same as Ember's. Prints one JSON line:
// {"engine":"onnxruntime","workload":"scifact","threads":T,"sentences_per_s":...,"rss_mib":...}
import ort from 'onnxruntime-node';
import fs from 'node:fs';
const args = process.argv.slice(2);
const [model, idsPath] = args;
const opt = (k, d) => { const i = args.indexOf('--' + k); return i >= 0 ? args[i + 1] : d; };
const threads = +opt('threads', 2), batch = +opt('batch', 32), seconds = +opt('seconds', 5);
const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
const texts = fs.readFileSync(idsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).input_ids);
texts.sort((a, b) => a.length - b.length);
const feeds = [];
for (let s = 0; s < texts.length; s += batch) {
  const ids = texts.slice(s, s + batch);
  const B = ids.length, L = Math.max(...ids.map((x) => x.length));
  const a = new BigInt64Array(B * L), m = new BigInt64Array(B * L), t = new BigInt64Array(B * L);
  ids.forEach((row, b) => row.forEach((v, j) => { a[b * L + j] = BigInt(v); m[b * L + j] = 1n; }));
  feeds.push({ input_ids: new ort.Tensor('int64', a, [B, L]), attention_mask: new ort.Tensor('int64', m, [B, L]), token_type_ids: new ort.Tensor('int64', t, [B, L]) });
}
await sess.run(feeds[0]);  // warm-up
let n = 0; const t0 = process.hrtime.bigint();
while (Number(process.hrtime.bigint() - t0) / 1e9 < seconds) {
  for (const f of feeds) await sess.run(f);
  n += texts.length;
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ engine: 'onnxruntime', version: ort.env.versions?.common, workload: 'scifact', batch, threads,
  texts: texts.length, sentences_per_s: +(n / s).toFixed(1), rss_mib: +(process.memoryUsage().rss / 1048576).toFixed(0) }));
