// RxDB scenarios against a Lattice node.
import assert from 'node:assert/strict';
import { createRxDatabase } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { wrappedValidateAjvStorage } from 'rxdb/plugins/validate-ajv';
import { replicateLattice, VERSION_FIELD } from '../glue/rxdb.js';
import { makeNet, until, sleep } from './net.js';

// The RxDB schema of collection "tasks" (mirrors the node's config: notes is text).
export const taskSchema = {
  version: 0, primaryKey: 'id', type: 'object',
  properties: {
    id: { type: 'string', maxLength: 100 },
    title: { type: 'string' }, owner: { type: 'string' }, notes: { type: 'string' },
    status: { enum: ['open', 'done'] },
    [VERSION_FIELD]: { type: 'string' },
  },
  required: ['id'],
};

let seq = 0;
export async function rxClient(ctx, name) {
  const url = ctx.nextUrl();
  const net = makeNet();
  const db = await createRxDatabase({ name: `rx${process.pid}x${++seq}`, storage: wrappedValidateAjvStorage({ storage: getRxStorageMemory() }) });
  await db.addCollections({ tasks: { schema: taskSchema } });
  const rep = replicateLattice({ collection: db.tasks, url, clientId: `rx-${name}-${process.pid}-${seq}`, fetch: net.fetch, retryTime: 300 });
  rep.error$.subscribe(() => {});
  await rep.awaitInitialReplication();
  const c = {
    name, net, db, rep,
    get: async (id) => (await db.tasks.findOne(id).exec())?.toJSON() ?? null,
    sync: async () => { rep.reSync(); await rep.awaitInSync(); },
    close: async () => { await rep.cancel(); await db.close(); },
  };
  ctx.cleanup.push(c.close);
  return c;
}

const id = (s) => `${s}-${Date.now().toString(36)}`;

export const scenarios = {
  async 'rxdb: offline edits of different fields are both kept'(ctx) {
    const a = await rxClient(ctx, 'a'); const b = await rxClient(ctx, 'b');
    const doc = id('diff');
    await a.db.tasks.insert({ id: doc, title: 't0', owner: 'o0' });
    await until('b has the doc', async () => (await b.get(doc))?.title === 't0');
    a.net.offline = b.net.offline = true;
    await (await a.db.tasks.findOne(doc).exec()).incrementalPatch({ title: 'from a' });
    await (await b.db.tasks.findOne(doc).exec()).incrementalPatch({ owner: 'from b' });
    await sleep(400); // the pushes fail while offline
    a.net.offline = b.net.offline = false;
    for (const c of [a, b]) await until(`${c.name} converges`, async () => {
      const d = await c.get(doc); return d.title === 'from a' && d.owner === 'from b';
    });
  },
  async 'rxdb: the same field, the later push wins everywhere'(ctx) {
    const a = await rxClient(ctx, 'a'); const b = await rxClient(ctx, 'b');
    const doc = id('same');
    await a.db.tasks.insert({ id: doc, title: 't0' });
    await until('b has the doc', async () => (await b.get(doc))?.title === 't0');
    a.net.offline = b.net.offline = true;
    await (await a.db.tasks.findOne(doc).exec()).incrementalPatch({ title: 'a' });
    await (await b.db.tasks.findOne(doc).exec()).incrementalPatch({ title: 'b' });
    await sleep(400);
    a.net.offline = false;
    await until('a pushed', async () => (await ctx.nativeDoc('tasks', doc))?.title === 'a');
    b.net.offline = false;
    for (const c of [a, b]) await until(`${c.name} has b's title`, async () => (await c.get(doc))?.title === 'b');
  },
  async 'rxdb: delete and revive reach the other client live'(ctx) {
    const a = await rxClient(ctx, 'a'); const b = await rxClient(ctx, 'b');
    const doc = id('del');
    await a.db.tasks.insert({ id: doc, title: 'x' });
    await until('b has it (live, no manual sync)', async () => (await b.get(doc))?.title === 'x');
    await (await a.db.tasks.findOne(doc).exec()).remove();
    await until('b sees the delete', async () => (await b.get(doc)) === null);
    await a.db.tasks.upsert({ id: doc, title: 'revived' });
    await until('b sees the revive', async () => (await b.get(doc))?.title === 'revived');
  },
  async 'rxdb: a push answered 503 is retried and lands once'(ctx) {
    const a = await rxClient(ctx, 'a');
    const doc = id('503');
    await ctx.control('fail-pushes?n=2');
    await a.db.tasks.insert({ id: doc, title: 'after 503', notes: 'hello' });
    await until('the push lands', async () => (await ctx.nativeDoc('tasks', doc))?.title === 'after 503');
    assert.equal((await ctx.control('failed')).failed >= 1, true, 'the node answered 503 at least once');
    assert.equal((await ctx.nativeDoc('tasks', doc)).notes, 'hello');
  },
  async 'rxdb: concurrent offline edits of notes keep both words'(ctx) {
    const a = await rxClient(ctx, 'a'); const b = await rxClient(ctx, 'b');
    const doc = id('notes');
    await a.db.tasks.insert({ id: doc, notes: 'check the pump' });
    await until('b has it', async () => (await b.get(doc))?.notes === 'check the pump');
    a.net.offline = b.net.offline = true;
    await (await a.db.tasks.findOne(doc).exec()).incrementalPatch({ notes: 'URGENT check the pump' });
    await (await b.db.tasks.findOne(doc).exec()).incrementalPatch({ notes: 'check the pump and valve' });
    await sleep(400);
    a.net.offline = b.net.offline = false;
    for (const c of [a, b]) await until(`${c.name} has both edits`, async () => (await c.get(doc))?.notes === 'URGENT check the pump and valve');
  },
  async 'rxdb: a schema violation is refused offline and by the server'(ctx) {
    const a = await rxClient(ctx, 'a');
    const doc = id('schema');
    await a.db.tasks.insert({ id: doc, status: 'open' });
    await until('pushed', async () => (await ctx.nativeDoc('tasks', doc))?.status === 'open');
    await assert.rejects((async () => (await a.db.tasks.findOne(doc).exec()).incrementalPatch({ status: 'lost' }))());
    const cur = await a.get(doc);
    const res = await fetch(`${ctx.url}/v1/rxdb/tasks/push`, { method: 'POST', headers: { 'Lattice-Client': 'forcer', 'Content-Type': 'application/json' },
      body: JSON.stringify([{ assumedMasterState: cur, newDocumentState: { ...cur, status: 'lost', title: 'also not written' } }]) });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'schema_violation');
    const stored = await ctx.nativeDoc('tasks', doc);
    assert.equal(stored.status, 'open'); assert.equal(stored.title, undefined);
  },
  async 'rxdb: the node restarts mid-run; nothing acknowledged is lost'(ctx) {
    const a = await rxClient(ctx, 'a'); const b = await rxClient(ctx, 'b');
    const doc = id('restart');
    await a.db.tasks.insert({ id: doc, title: 'before' });
    await until('acknowledged', async () => (await ctx.nativeDoc('tasks', doc))?.title === 'before');
    await ctx.control('restart');
    await (await a.db.tasks.findOne(doc).exec()).incrementalPatch({ owner: 'after restart' });
    for (const c of [a, b]) await until(`${c.name} reconnected and has both`, async () => {
      const d = await c.get(doc); return d?.title === 'before' && d?.owner === 'after restart';
    }, 20000);
    await sleep(10);
  },
};
