// Replays a sequential editing trace (default: automerge-paper) with Yjs (one
// transaction per patch, Y.Text insert/delete) and Automerge (one change per patch,
// Automerge.splice), checks the final text against endContent and prints one JSON
// object with the timings. Used by test/bench/textbench; run alone with
//   node text-trace.mjs [trace.json.gz] [--yjs-runs N] [--automerge-runs N]
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as Y from 'yjs';
import * as Automerge from '@automerge/automerge/next';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const tracePath = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')))
  ?? path.join(here, '../../crdt/testdata/traces/automerge-paper.json.gz');
const trace = JSON.parse(gunzipSync(readFileSync(tracePath)).toString('utf8'));
const patches = trace.txns.map((t) => t.patches);

function replayYjs() {
  const doc = new Y.Doc();
  const text = doc.getText('t');
  for (const txn of patches) {
    doc.transact(() => {
      for (const [pos, del, ins] of txn) {
        if (del > 0) text.delete(pos, del);
        if (ins !== '') text.insert(pos, ins);
      }
    });
  }
  return { doc, content: text.toString(), encoded: () => Y.encodeStateAsUpdate(doc).length };
}

function replayAutomerge() {
  let doc = Automerge.change(Automerge.init(), (d) => { d.text = ''; });
  for (const txn of patches) {
    doc = Automerge.change(doc, (d) => {
      for (const [pos, del, ins] of txn) Automerge.splice(d, ['text'], pos, del, ins);
    });
  }
  return { doc, content: doc.text.toString(), encoded: () => Automerge.save(doc).length };
}

function measure(name, replay, runs) {
  let best = Infinity;
  let last;
  for (let i = 0; i < runs; i++) {
    last = undefined;
    if (globalThis.gc) globalThis.gc();
    const t0 = performance.now();
    const r = replay();
    const ms = performance.now() - t0;
    best = Math.min(best, ms);
    if (r.content !== trace.endContent) throw new Error(`${name}: final content differs from endContent`);
    last = { encodedBytes: r.encoded() };
  }
  return { ms: best, runs, encodedBytes: last.encodedBytes };
}

const out = {
  trace: path.basename(tracePath),
  patches: patches.length,
  node: process.version,
  yjs: measure('yjs', replayYjs, flag('--yjs-runs', 5)),
  automerge: measure('automerge', replayAutomerge, flag('--automerge-runs', 1)),
};
console.log(JSON.stringify(out));
