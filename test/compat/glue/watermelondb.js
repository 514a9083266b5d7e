// Lattice glue for WatermelonDB (synchronize()). docs/clients/watermelondb.md quotes
// this file; it is the one source of the glue.
import WMSync from '@nozbe/watermelondb/sync/index.js';
import { EventSource } from 'eventsource';

const { synchronize } = WMSync;

// The columns every synced table needs besides its own: the document version and the
// typed fields' base values the server serves (keep them untouched).
export const latticeColumns = [
  { name: 'latticeVersion', type: 'string', isOptional: true },
  { name: 'latticeBase', type: 'string', isOptional: true },
];

// deriveColumns turns a collection's JSON Schema (GET /v1/collections/{c}/schema)
// into WatermelonDB columns: one per top-level property, all optional.
export function deriveColumns(schemaResponse) {
  const props = schemaResponse.schema.properties ?? {};
  const type = (p) => {
    const t = p.type ?? (p.enum ? typeof p.enum[0] : 'string');
    return t === 'number' || t === 'integer' ? 'number' : t === 'boolean' ? 'boolean' : 'string';
  };
  return Object.entries(props).filter(([n]) => n !== 'id').map(([name, p]) => ({ name, type: type(p), isOptional: true }));
}

// latticeSync syncs database's tables with a Lattice node: sync() runs one
// synchronize() (never two at once); with live, a change on the node's stream runs one.
export function latticeSync({ database, url, clientId, token, tables, fetch = globalThis.fetch, live = true }) {
  const headers = { 'Content-Type': 'application/json', 'Lattice-Client': clientId };
  if (token) headers.Authorization = `Bearer ${token}`;
  const call = async (path, init = {}) => {
    const res = await fetch(url + path, { ...init, headers });
    const body = await res.json();
    if (!res.ok) throw Object.assign(new Error(`lattice ${res.status}: ${body.error?.code}`), { status: res.status, body });
    return body;
  };
  const syncOnce = () => synchronize({
    database,
    // timestamp is a number the server maps back to every table's feed position. A
    // pull follows the node's pages to the end and hands WatermelonDB one result.
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const q = new URLSearchParams({ tables: tables.join(','), schema_version: String(schemaVersion) });
      if (migration) q.set('migration', JSON.stringify(migration));
      return pullPages((at) => {
        if (at) q.set('last_pulled_at', String(at));
        return call(`/v1/watermelon/pull?${q}`);
      }, lastPulledAt);
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      await call(`/v1/watermelon/push?last_pulled_at=${lastPulledAt}`, { method: 'POST', body: JSON.stringify({ changes }) });
    },
    // A record edited locally keeps the version and base it was edited from, so the
    // server merges its text edits instead of undoing the concurrent ones.
    // The feed says "changed", not "created": let WatermelonDB create unknown records.
    sendCreatedAsUpdated: true,
    conflictResolver: (table, local, remote, resolved) => {
      if (local._changed) Object.assign(resolved, { latticeVersion: local.latticeVersion, latticeBase: local.latticeBase });
      return resolved;
    },
  });
  let running = null;
  let again = false;
  const sync = () => {
    if (running) { again = true; return running; }
    running = (async () => {
      try { do { again = false; await syncOnce(); } while (again); } finally { running = null; }
    })();
    return running;
  };
  let es = null;
  if (live) {
    const q = new URLSearchParams({ collections: tables.join(',') });
    if (token) q.set('access_token', token);
    es = new EventSource(`${url}/v1/stream?${q}`, { fetch });
    const kick = () => { sync().catch(() => {}); };
    es.addEventListener('change', kick);
    es.addEventListener('resync', kick);
    es.onopen = kick;
  }
  return { sync, close: () => es?.close() };
}

// pullPages pulls from lastPulledAt while the node says hasMore (an answer is one
// page of about 8 MiB at most; its timestamp resumes every table where the page
// stopped) and combines the pages into the one result synchronize() takes: later
// pages win per id, a deletion included; a record created in an earlier page stays
// created; and an id is in one of created, updated and deleted only.
async function pullPages(pull, lastPulledAt) {
  const tables = new Map();
  let page = { timestamp: lastPulledAt, hasMore: true };
  while (page.hasMore) {
    page = await pull(page.timestamp);
    for (const [name, c] of Object.entries(page.changes)) {
      if (!tables.has(name)) tables.set(name, new Map());
      const rows = tables.get(name);
      for (const raw of c.created) rows.set(raw.id, { kind: 'created', raw });
      for (const raw of c.updated) rows.set(raw.id, { kind: rows.get(raw.id)?.kind === 'created' ? 'created' : 'updated', raw });
      for (const id of c.deleted) rows.set(id, { kind: 'deleted', raw: id });
    }
  }
  const changes = {};
  for (const [name, rows] of tables) {
    const t = (changes[name] = { created: [], updated: [], deleted: [] });
    for (const { kind, raw } of rows.values()) t[kind].push(raw);
  }
  return { changes, timestamp: page.timestamp };
}
