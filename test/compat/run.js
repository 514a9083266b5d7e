// Runs the compatibility scenarios against a Lattice node.
//   node run.js --url http://127.0.0.1:8080 --control http://127.0.0.1:9000 [--only rxdb]
// --url may be repeated (more nodes of one cluster, later); --control is the Go
// test's control endpoint (fault injection, node restart).
import { parseArgs } from 'node:util';
import { scenarios as rxdb } from './scenarios/rxdb.js';
import { scenarios as signaldb } from './scenarios/signaldb.js';
import { scenarios as watermelon } from './scenarios/watermelon.js';
import { scenarios as mixed } from './scenarios/mixed.js';

const { values } = parseArgs({ options: { url: { type: 'string', multiple: true }, control: { type: 'string' }, only: { type: 'string' } } });
const all = { ...rxdb, ...signaldb, ...watermelon, ...mixed };
let failed = 0;
let urlTurn = 0;
for (const [name, fn] of Object.entries(all)) {
  if (values.only && !name.includes(values.only)) continue;
  const ctx = {
    url: values.url[0], urls: values.url, cleanup: [],
    // Each new client gets the next node URL (round robin), so with several nodes of
    // one cluster the clients of a scenario talk to different nodes.
    nextUrl: () => values.url[urlTurn++ % values.url.length],
    control: async (what) => (await (await fetch(`${values.control}/${what}`, { method: 'POST' })).json()),
    nativeDoc: async (coll, docId) => {
      let cp = ''; let doc = null;
      for (;;) {
        const page = await (await fetch(`${values.url[0]}/v1/collections/${coll}/pull?checkpoint=${cp}`)).json();
        for (const c of page.changes) if (c.id === docId) doc = c.deleted ? null : c.doc;
        cp = page.checkpoint; if (!page.hasMore) return doc;
      }
    },
  };
  const start = Date.now();
  try {
    await fn(ctx);
    console.log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${Date.now() - start} ms): ${e.stack}`);
  }
  for (const c of ctx.cleanup.reverse()) await c().catch(() => {});
}
console.log(failed ? `${failed} scenario(s) failed` : 'all scenarios passed');
process.exit(failed ? 1 : 0);
