// One RxDB, one SignalDB and one WatermelonDB client on one collection.
import { rxClient } from './rxdb.js';
import { sdbClient } from './signaldb.js';
import { wmClient } from './watermelon.js';
import { until, sleep } from './net.js';

const id = (s) => `${s}-${Date.now().toString(36)}`;

async function three(ctx) {
  const rx = await rxClient(ctx, 'mix'); const sdb = await sdbClient(ctx, 'mix'); const wm = await wmClient(ctx, 'mix');
  const all = [rx, sdb, wm];
  const patch = { rx: async (doc, set) => (await rx.db.tasks.findOne(doc).exec()).incrementalPatch(set), sdb: (doc, set) => sdb.patch(doc, set), wm: (doc, set) => wm.patch(doc, set) };
  const everywhere = async (what, doc, pred) => {
    for (const c of all) await until(`${c.name} (${c === rx ? 'rxdb' : c === sdb ? 'signaldb' : 'watermelon'}): ${what}`, async () => { if (c === wm) await wm.sync(); return pred(await c.get(doc)); }, 20000);
  };
  return { rx, sdb, wm, all, patch, everywhere };
}

export const scenarios = {
  async 'mixed: offline edits of different fields and of notes merge everywhere'(ctx) {
    const { rx, sdb, wm, all, patch, everywhere } = await three(ctx);
    const doc = id('mix');
    await rx.db.tasks.insert({ id: doc, title: 't0', owner: 'o0', notes: 'check the pump' });
    await everywhere('has the doc', doc, (d) => d?.notes === 'check the pump' && d?.latticeVersion);
    for (const c of all) c.net.offline = true;
    await patch.rx(doc, { title: 'rx title' });
    await patch.sdb(doc, { owner: 'sdb owner', notes: 'URGENT check the pump' });
    await patch.wm(doc, { notes: 'check the pump and valve' });
    await sleep(400);
    for (const c of all) c.net.offline = false;
    await sdb.sync(); await wm.sync();
    await everywhere('converged', doc, (d) => d?.title === 'rx title' && d?.owner === 'sdb owner' && d?.notes === 'URGENT check the pump and valve');
  },
  async 'mixed: the node restarts; live updates and deletes reach everyone'(ctx) {
    const { rx, sdb, wm, patch, everywhere } = await three(ctx);
    const doc = id('mixr');
    await sdb.insert({ id: doc, title: 'before' });
    await everywhere('has the doc', doc, (d) => d?.title === 'before');
    await ctx.control('restart');
    await patch.wm(doc, { owner: 'after restart' }); await wm.sync();
    await everywhere('has the edit made after the restart', doc, (d) => d?.title === 'before' && d?.owner === 'after restart');
    await patch.rx(doc, { title: 'live from rx' });
    await everywhere('got the live edit', doc, (d) => d?.title === 'live from rx');
    await (await rx.db.tasks.findOne(doc).exec()).remove();
    await everywhere('sees the delete', doc, (d) => d === null);
    void sdb;
  },
};
