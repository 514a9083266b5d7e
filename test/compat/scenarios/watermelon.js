// WatermelonDB scenarios against a Lattice node.
import assert from 'node:assert/strict';
import { Database, Model, appSchema, tableSchema } from '@nozbe/watermelondb';
import LokiMod from '@nozbe/watermelondb/adapters/lokijs/index.js';
import LoggerMod from '@nozbe/watermelondb/utils/common/logger/index.js';
import { latticeSync, latticeColumns, deriveColumns } from '../glue/watermelondb.js';
import { taskValidator } from './signaldb.js';
import { makeNet, until, sleep, bigPad, putBig, removeDocs, countingFetch } from './net.js';

const LokiJSAdapter = LokiMod.default;
LoggerMod.default.silence();
class Task extends Model { static table = 'tasks'; }

let seq = 0;
export async function wmClient(ctx, name) {
  const url = ctx.nextUrl();
  const net = makeNet();
  const served = await (await fetch(`${ctx.url}/v1/collections/tasks/schema`)).json();
  const columns = [...deriveColumns(served), { name: 'title', type: 'string', isOptional: true }, { name: 'owner', type: 'string', isOptional: true }, ...latticeColumns];
  const schema = appSchema({ version: 1, tables: [tableSchema({ name: 'tasks', columns })] });
  const adapter = new LokiJSAdapter({ schema, useWebWorker: false, useIncrementalIndexedDB: false, dbName: `wm${process.pid}x${++seq}` });
  const db = new Database({ adapter, modelClasses: [Task] });
  const s = latticeSync({ database: db, url, clientId: `wm-${name}-${process.pid}-${seq}`, tables: ['tasks'], fetch: net.fetch });
  const validate = await taskValidator(ctx.url);
  const find = async (id) => { try { return await db.get('tasks').find(id); } catch { return null; } };
  const write = (id, cols) => db.write(async () => {
    const rec = await find(id);
    const apply = (r) => { for (const [k, v] of Object.entries(cols)) r._setRaw(k, v); };
    const after = { ...(rec?._raw ?? { id }), ...cols };
    if (!validate(Object.fromEntries(Object.entries(after).filter(([k, v]) => v !== null && !k.startsWith('_'))))) throw new Error('invalid: refused by the schema');
    if (rec) await rec.update(apply); else await db.get('tasks').create((r) => { r._raw.id = id; apply(r); });
  });
  const c = {
    name, net, db,
    get: async (id) => { const r = await find(id); return r && r._raw._status !== 'deleted' ? r._raw : null; },
    insert: (doc) => write(doc.id, Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'id'))),
    patch: (id, cols) => write(id, cols),
    remove: (id) => db.write(async () => (await find(id)).markAsDeleted()),
    sync: () => s.sync().catch(() => {}),
    close: async () => { s.close(); },
  };
  await until(`${name} first sync`, async () => { await s.sync(); return true; });
  ctx.cleanup.push(c.close);
  return c;
}

const id = (s) => `${s}-${Date.now().toString(36)}`;

export const scenarios = {
  async 'watermelon: offline edits of different fields are both kept'(ctx) {
    const a = await wmClient(ctx, 'a'); const b = await wmClient(ctx, 'b');
    const doc = id('wdiff');
    await a.insert({ id: doc, title: 't0', owner: 'o0' }); await a.sync();
    await until('b has the doc (live)', async () => (await b.get(doc))?.title === 't0');
    a.net.offline = b.net.offline = true;
    await a.patch(doc, { title: 'from a' }); await b.patch(doc, { owner: 'from b' });
    await a.sync(); await b.sync();
    a.net.offline = b.net.offline = false;
    await a.sync(); await b.sync();
    for (const c of [a, b]) await until(`${c.name} converges`, async () => {
      const d = await c.get(doc); return d?.title === 'from a' && d?.owner === 'from b';
    });
  },
  async 'watermelon: the same field, the later push wins everywhere'(ctx) {
    const a = await wmClient(ctx, 'a'); const b = await wmClient(ctx, 'b');
    const doc = id('wsame');
    await a.insert({ id: doc, title: 't0' }); await a.sync();
    await until('b has the doc', async () => (await b.get(doc))?.title === 't0');
    a.net.offline = b.net.offline = true;
    await a.patch(doc, { title: 'a' }); await b.patch(doc, { title: 'b' });
    a.net.offline = false; await a.sync();
    b.net.offline = false; await b.sync();
    for (const c of [a, b]) await until(`${c.name} has b's title`, async () => (await c.get(doc))?.title === 'b');
  },
  async 'watermelon: delete and revive reach the other client live'(ctx) {
    const a = await wmClient(ctx, 'a'); const b = await wmClient(ctx, 'b');
    const doc = id('wdel');
    await a.insert({ id: doc, title: 'x' }); await a.sync();
    await until('b has it', async () => (await b.get(doc))?.title === 'x');
    await a.remove(doc); await a.sync();
    await until('b sees the delete', async () => (await b.get(doc)) === null);
    // Let a pull its own delete back first: a pull in flight that brings the deletion
    // would otherwise apply it to the record re-created under the same id (WatermelonDB
    // applies a remote deletion to a locally created record; docs/clients/watermelondb.md).
    await a.sync();
    await a.insert({ id: doc, title: 'revived' }); await a.sync();
    await until('b sees the revive', async () => (await b.get(doc))?.title === 'revived');
  },
  async 'watermelon: a push answered 503 fails the sync; the next one lands once'(ctx) {
    const a = await wmClient(ctx, 'a');
    const doc = id('w503');
    await ctx.control('fail-pushes?n=1');
    await a.insert({ id: doc, title: 'after 503', notes: 'hello' });
    await a.sync();
    assert.equal((await ctx.control('failed')).failed, 1);
    await until('the push lands', async () => { await a.sync(); return (await ctx.nativeDoc('tasks', doc))?.title === 'after 503'; });
    assert.equal((await ctx.nativeDoc('tasks', doc)).notes, 'hello');
  },
  async 'watermelon: concurrent offline edits of notes keep both words'(ctx) {
    const a = await wmClient(ctx, 'a'); const b = await wmClient(ctx, 'b');
    const doc = id('wnotes');
    await a.insert({ id: doc, notes: 'check the pump' }); await a.sync();
    await until('b has it', async () => (await b.get(doc))?.notes === 'check the pump');
    await until('a has the version', async () => { await a.sync(); return (await a.get(doc))?.latticeVersion; });
    a.net.offline = b.net.offline = true;
    await a.patch(doc, { notes: 'URGENT check the pump' }); await b.patch(doc, { notes: 'check the pump and valve' });
    a.net.offline = false; await a.sync();
    b.net.offline = false; await b.sync();
    for (const c of [a, b]) await until(`${c.name} has both edits`, async () => { await c.sync(); return (await c.get(doc))?.notes === 'URGENT check the pump and valve'; });
  },
  async 'watermelon: a schema violation is refused offline and by the server'(ctx) {
    const a = await wmClient(ctx, 'a');
    const doc = id('wschema');
    await a.insert({ id: doc, status: 'open' }); await a.sync();
    await until('pushed', async () => (await ctx.nativeDoc('tasks', doc))?.status === 'open');
    await assert.rejects(a.patch(doc, { status: 'lost' }), /invalid/);
    const res = await fetch(`${ctx.url}/v1/watermelon/push?last_pulled_at=1`, { method: 'POST', headers: { 'Lattice-Client': 'forcer', 'Content-Type': 'application/json' },
      body: JSON.stringify({ changes: { tasks: { created: [], deleted: [], updated: [{ id: doc, status: 'lost', title: 'no', _status: 'updated', _changed: 'status,title' }] } } }) });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'schema_violation');
    const stored = await ctx.nativeDoc('tasks', doc);
    assert.equal(stored.status, 'open'); assert.equal(stored.title, undefined);
    await sleep(1);
  },
  async 'watermelon: a pull over the page budget loops and hands WatermelonDB one result'(ctx) {
    const coll = id('wbulk').replace(/-/g, '_');
    const docs = Array.from({ length: 24 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    await putBig(ctx, coll, docs, 'v1'); // about 850 KB: four pages of 256 KiB at most
    class Bulk extends Model { static table = coll; }
    const columns = [{ name: 'title', type: 'string', isOptional: true }, { name: 'pad', type: 'string', isOptional: true }, ...latticeColumns];
    const schema = appSchema({ version: 1, tables: [tableSchema({ name: coll, columns })] });
    const adapter = new LokiJSAdapter({ schema, useWebWorker: false, useIncrementalIndexedDB: false, dbName: `wm${process.pid}x${++seq}` });
    const db = new Database({ adapter, modelClasses: [Bulk] });
    const net = countingFetch();
    const s = latticeSync({ database: db, url: ctx.nextUrl(), clientId: `wm-bulk-${process.pid}-${seq}`, tables: [coll], fetch: net.fetch, live: false });
    const rows = async () => (await db.get(coll).query().fetch()).map((r) => r._raw);
    const titles = async () => Object.fromEntries((await rows()).map((r) => [r.id, r.title]));
    const want = Object.fromEntries(docs.map((d) => [d, 'v1']));
    // Between the first page and the next: a record created in it is deleted, another updated.
    net.between = async () => { await removeDocs(ctx, coll, ['w00']); await putBig(ctx, coll, ['w01'], 'v2'); };
    await s.sync();
    delete want.w00; want.w01 = 'v2';
    assert.ok(net.pulls >= 3, `one sync made ${net.pulls} pull requests`);
    assert.deepEqual(await titles(), want);
    const all = await rows();
    assert.ok(all.every((r) => r._status === 'synced' && r.pad.length === bigPad), 'every record synced whole');
    // From the timestamp: changes over two pages; a record created in the first page
    // is deleted, and one served before is updated, before the next.
    net.pulls = 0;
    const added = Array.from({ length: 13 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    await putBig(ctx, coll, added, 'v3');
    net.between = async () => { await removeDocs(ctx, coll, ['n00']); await putBig(ctx, coll, ['w02'], 'v3'); };
    await s.sync();
    for (const d of [...added.slice(1), 'w02']) want[d] = 'v3';
    assert.ok(net.pulls >= 2, `the next sync made ${net.pulls} pull requests`);
    assert.deepEqual(await titles(), want);
  },
};
