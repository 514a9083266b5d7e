// SignalDB scenarios against a Lattice node.
import assert from 'node:assert/strict';
import { Collection } from '@signaldb/core';
import Ajv from 'ajv';
import { latticeSyncManager } from '../glue/signaldb.js';
import { makeNet, until, sleep, bigPad, putBig, removeDocs, countingFetch } from './net.js';

const ajv = new Ajv();
// The server's schema of "tasks" (GET /v1/collections/tasks/schema serves it).
export async function taskValidator(url) {
  const s = await (await fetch(`${url}/v1/collections/tasks/schema`)).json();
  return ajv.compile({ ...s.schema, $schema: undefined });
}

let seq = 0;
export async function sdbClient(ctx, name) {
  const url = ctx.nextUrl();
  const net = makeNet();
  const sm = latticeSyncManager({ url, clientId: `sdb-${name}-${process.pid}-${++seq}`, fetch: net.fetch, id: `sm${seq}`, onError: () => {}, debounceTime: 20 });
  const tasks = new Collection();
  const validate = await taskValidator(ctx.url);
  tasks.on('validate', (item) => { if (!validate(item)) throw new Error(`invalid: ${ajv.errorsText(validate.errors)}`); });
  sm.addCollection(tasks, { name: 'tasks' });
  await sm.isReady();
  await sm.sync('tasks');
  const c = {
    name, net, sm, tasks,
    get: async (id) => tasks.findOne({ id }, { reactive: false }) ?? null,
    insert: (doc) => tasks.insert(doc),
    patch: (id, set) => tasks.updateOne({ id }, { $set: set }),
    remove: (id) => tasks.removeOne({ id }),
    sync: () => sm.sync('tasks').catch(() => {}),
    close: async () => { await sm.dispose(); },
  };
  ctx.cleanup.push(c.close);
  return c;
}

const id = (s) => `${s}-${Date.now().toString(36)}`;

export const scenarios = {
  async 'signaldb: offline edits of different fields are both kept'(ctx) {
    const a = await sdbClient(ctx, 'a'); const b = await sdbClient(ctx, 'b');
    const doc = id('sdiff');
    a.insert({ id: doc, title: 't0', owner: 'o0' });
    await until('b has the doc (live)', async () => (await b.get(doc))?.title === 't0');
    a.net.offline = b.net.offline = true;
    a.patch(doc, { title: 'from a' }); b.patch(doc, { owner: 'from b' });
    await sleep(400); // the pushes fail while offline
    a.net.offline = b.net.offline = false;
    await a.sync(); await b.sync();
    for (const c of [a, b]) await until(`${c.name} converges`, async () => {
      const d = await c.get(doc); return d?.title === 'from a' && d?.owner === 'from b';
    });
  },
  async 'signaldb: the same field, the later push wins everywhere'(ctx) {
    const a = await sdbClient(ctx, 'a'); const b = await sdbClient(ctx, 'b');
    const doc = id('ssame');
    a.insert({ id: doc, title: 't0' });
    await until('b has the doc', async () => (await b.get(doc))?.title === 't0');
    a.net.offline = b.net.offline = true;
    a.patch(doc, { title: 'a' }); b.patch(doc, { title: 'b' });
    await sleep(400);
    a.net.offline = false; await a.sync();
    await until('a pushed', async () => (await ctx.nativeDoc('tasks', doc))?.title === 'a');
    b.net.offline = false; await b.sync();
    for (const c of [a, b]) await until(`${c.name} has b's title`, async () => (await c.get(doc))?.title === 'b');
  },
  async 'signaldb: delete and revive reach the other client live'(ctx) {
    const a = await sdbClient(ctx, 'a'); const b = await sdbClient(ctx, 'b');
    const doc = id('sdel');
    a.insert({ id: doc, title: 'x' });
    await until('b has it', async () => (await b.get(doc))?.title === 'x');
    a.remove(doc);
    await until('b sees the delete', async () => (await b.get(doc)) === null);
    a.insert({ id: doc, title: 'revived' });
    await until('b sees the revive', async () => (await b.get(doc))?.title === 'revived');
  },
  async 'signaldb: a push answered 503 is retried and lands once'(ctx) {
    const a = await sdbClient(ctx, 'a');
    const doc = id('s503');
    await ctx.control('fail-pushes?n=2');
    a.insert({ id: doc, title: 'after 503', notes: 'hello' });
    await until('the push lands', async () => (await ctx.nativeDoc('tasks', doc))?.title === 'after 503');
    assert.ok((await ctx.control('failed')).failed >= 1, 'the node answered 503 at least once');
    assert.equal((await ctx.nativeDoc('tasks', doc)).notes, 'hello');
  },
  async 'signaldb: concurrent offline edits of notes keep both words'(ctx) {
    const a = await sdbClient(ctx, 'a'); const b = await sdbClient(ctx, 'b');
    const doc = id('snotes');
    a.insert({ id: doc, notes: 'check the pump' });
    await until('b has it', async () => (await b.get(doc))?.notes === 'check the pump');
    await a.sync();
    a.net.offline = b.net.offline = true;
    a.patch(doc, { notes: 'URGENT check the pump' }); b.patch(doc, { notes: 'check the pump and valve' });
    await sleep(400);
    a.net.offline = false; await a.sync();
    b.net.offline = false; await b.sync();
    for (const c of [a, b]) await until(`${c.name} has both edits`, async () => (await c.get(doc))?.notes === 'URGENT check the pump and valve');
  },
  async 'signaldb: a schema violation is refused offline and by the server'(ctx) {
    const a = await sdbClient(ctx, 'a');
    const doc = id('sschema');
    a.insert({ id: doc, status: 'open' });
    await until('pushed', async () => (await ctx.nativeDoc('tasks', doc))?.status === 'open');
    assert.throws(() => a.patch(doc, { status: 'lost' }), /invalid/);
    const item = await a.get(doc);
    const res = await fetch(`${ctx.url}/v1/signaldb/tasks/push`, { method: 'POST', headers: { 'Lattice-Client': 'forcer', 'Content-Type': 'application/json' },
      body: JSON.stringify({ changes: { added: [], removed: [], modified: [{ ...item, status: 'lost', title: 'no' }], modifiedFields: { [doc]: ['status', 'title'] } }, rawChanges: [] }) });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'schema_violation');
    const stored = await ctx.nativeDoc('tasks', doc);
    assert.equal(stored.status, 'open'); assert.equal(stored.title, undefined);
  },
  async 'signaldb: a pull over the page budget loops and hands SignalDB one result'(ctx) {
    const coll = id('sbulk');
    const docs = Array.from({ length: 24 }, (_, i) => `d${String(i).padStart(2, '0')}`);
    await putBig(ctx, coll, docs, 'v1'); // about 850 KB: four pages of 256 KiB at most
    const net = countingFetch();
    const sm = latticeSyncManager({ url: ctx.nextUrl(), clientId: `sdb-bulk-${process.pid}-${++seq}`, fetch: net.fetch, id: `sm${seq}`, onError: () => {}, autostart: false });
    const items = new Collection();
    sm.addCollection(items, { name: coll });
    ctx.cleanup.push(() => sm.dispose());
    const titles = () => Object.fromEntries(items.find({}, { reactive: false }).fetch().map((d) => [d.id, d.title]));
    const want = Object.fromEntries(docs.map((d) => [d, 'v1']));
    // Between the first page and the next: a document served in it is deleted, another updated.
    net.between = async () => { await removeDocs(ctx, coll, ['d00']); await putBig(ctx, coll, ['d01'], 'v2'); };
    await sm.isReady();
    await sm.sync(coll);
    delete want.d00; want.d01 = 'v2';
    assert.ok(net.pulls >= 3, `one sync made ${net.pulls} pull requests`);
    assert.deepEqual(titles(), want);
    assert.equal(items.findOne({ id: 'd23' }, { reactive: false }).pad.length, bigPad);
    // From the checkpoint: a changeset of two pages; a document added in the first
    // page is deleted, and one served before is updated, before the next.
    net.pulls = 0;
    const added = Array.from({ length: 13 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    await putBig(ctx, coll, added, 'v3');
    net.between = async () => { await removeDocs(ctx, coll, ['n00']); await putBig(ctx, coll, ['d02'], 'v3'); };
    await sm.sync(coll);
    for (const d of [...added.slice(1), 'd02']) want[d] = 'v3';
    assert.ok(net.pulls >= 2, `the next sync made ${net.pulls} pull requests`);
    assert.deepEqual(titles(), want);
  },
};
