// Lattice glue for SignalDB (SyncManager from @signaldb/sync). docs/clients/signaldb.md
// quotes this file; it is the one source of the glue.
import { SyncManager } from '@signaldb/sync';
import { EventSource } from 'eventsource';

// latticeSyncManager returns a SyncManager that syncs with a Lattice node.
// url: the node's base URL; clientId: stable per device (Lattice-Client);
// token: a JWT (omit for `lattice dev`); fetch: optional (tests simulate offline).
export function latticeSyncManager({ url, clientId, token, fetch = globalThis.fetch, ...options }) {
  const headers = { 'Content-Type': 'application/json', 'Lattice-Client': clientId };
  if (token) headers.Authorization = `Bearer ${token}`;
  // A push answered 5xx or 429, or lost on the way, is retried with the same body a
  // few times (PROTOCOL.md: the result is as if applied once); then the sync fails
  // and SignalDB tries again on its next sync.
  const call = async (path, init = {}, attempts = 4) => {
    for (let i = 1; ; i++) {
      let res;
      try {
        res = await fetch(url + path, { ...init, headers });
      } catch (err) {
        if (i >= attempts) throw err;
        await sleep(Math.min(250 * 2 ** i, 2000));
        continue;
      }
      const body = await res.json();
      if (res.ok) return body;
      const err = Object.assign(new Error(`lattice ${res.status}: ${body.error?.code}`), { status: res.status, body });
      if (i >= attempts || !(res.status >= 500 || res.status === 429)) throw err;
      await sleep(Math.min(1000 * Number(res.headers.get('Retry-After') || 0.25) * i, 2000));
    }
  };
  const states = new Map();
  const stateOf = (name) => {
    if (!states.has(name)) states.set(name, { checkpoint: '', bases: new Map(), pulls: [] });
    return states.get(name);
  };
  return new SyncManager({
    ...options,
    // The server checkpoint (not lastFinishedSyncStart, the client's own clock) is
    // what pulls resume from. A pull's checkpoint and the versions it served become
    // the base only once a sync that made that pull has finished: SignalDB drops the
    // pulled data of a failed sync, so resuming after it would skip changes. A pull
    // follows the node's pages to the end and hands SignalDB one result.
    async pull({ name }, { lastFinishedSyncEnd = 0 }) {
      const s = stateOf(name);
      commitPulls(s, lastFinishedSyncEnd);
      const path = `/v1/signaldb/${encodeURIComponent(name)}/pull`;
      const time = Date.now();
      const body = await pullPages((cp) => call(cp ? `${path}?checkpoint=${encodeURIComponent(cp)}` : path), s.checkpoint);
      s.pulls.push({ time, body });
      return body.items ? { items: body.items } : { changes: body.changes };
    },
    // Items go with the version and typed values of the state they were edited from,
    // so that the server writes only the client's changes and merges text.
    async push({ name }, { changes, rawChanges }) {
      const s = stateOf(name);
      const withBase = (item) => ({ ...item, ...s.bases.get(item.id) });
      await call(`/v1/signaldb/${encodeURIComponent(name)}/push`, {
        method: 'POST',
        body: JSON.stringify({
          changes: {
            added: changes.added, modified: changes.modified.map(withBase),
            removed: changes.removed.map((r) => ({ id: r.id })),
            modifiedFields: Object.fromEntries(changes.modifiedFields),
          },
          rawChanges,
        }),
      });
    },
    // Every event means "something changed after your checkpoint": sync.
    registerRemoteChange({ name }, onChange) {
      const q = token ? `?access_token=${encodeURIComponent(token)}` : '';
      const es = new EventSource(`${url}/v1/signaldb/${encodeURIComponent(name)}/stream${q}`, { fetch });
      es.onmessage = () => { onChange().catch(() => {}); };
      return () => es.close();
    },
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// pullPages pulls from checkpoint while the node says hasMore (an answer is one page
// of about 8 MiB at most) and combines the pages into one answer, for one sync:
// later pages win per id, and an id is in added or removed, not both. Without a
// checkpoint the first page holds items and the later ones changes to apply to them.
async function pullPages(pull, checkpoint) {
  let page = await pull(checkpoint);
  const items = page.items && new Map(page.items.map((i) => [i.id, i]));
  const added = new Map(); const removed = new Map();
  const apply = (c) => {
    for (const i of c.added) {
      if (items) items.set(i.id, i); else { removed.delete(i.id); added.set(i.id, i); }
    }
    for (const r of c.removed) {
      if (items) items.delete(r.id); else { added.delete(r.id); removed.set(r.id, r); }
    }
  };
  if (page.changes) apply(page.changes);
  while (page.hasMore) {
    page = await pull(page.checkpoint);
    apply(page.changes);
  }
  if (items) return { items: [...items.values()], checkpoint: page.checkpoint };
  return { changes: { added: [...added.values()], modified: [], removed: [...removed.values()] }, checkpoint: page.checkpoint };
}

// commitPulls folds the pulls made up to the end of the last finished sync into the
// checkpoint and the bases.
function commitPulls(s, end) {
  while (s.pulls.length > 0 && s.pulls[0].time <= end) {
    const { body } = s.pulls.shift();
    const c = body.changes;
    if (body.items) s.bases.clear();
    for (const item of body.items ?? [...c.added, ...c.modified]) {
      s.bases.set(item.id, { latticeVersion: item.latticeVersion, latticeBase: item.latticeBase });
    }
    for (const r of c?.removed ?? []) s.bases.delete(r.id);
    s.checkpoint = body.checkpoint;
  }
}
