// Lattice glue for RxDB (replicateRxCollection). docs/clients/rxdb.md quotes this file;
// it is the one source of the glue.
import { replicateRxCollection } from 'rxdb/plugins/replication';
import { Subject } from 'rxjs';
import { EventSource } from 'eventsource';

// The field in which Lattice serves each document's version: declare it in the RxDB
// schema as {type: 'string'}. Keep it untouched; the server uses it as the base of
// your edits (text merging, retry detection).
export const VERSION_FIELD = 'latticeVersion';

// replicateLattice starts a live replication of collection with a Lattice node.
// url: the node's base URL; clientId: stable per device (Lattice-Client);
// token: a JWT (omit for `lattice dev`); fetch: optional fetch (tests simulate offline).
export function replicateLattice({ collection, url, clientId, token, name = collection.name,
  live = true, retryTime = 500, fetch = globalThis.fetch }) {
  const base = `${url}/v1/rxdb/${encodeURIComponent(name)}`;
  const headers = { 'Content-Type': 'application/json', 'Lattice-Client': clientId };
  if (token) headers.Authorization = `Bearer ${token}`;
  const call = async (path, init) => {
    const res = await fetch(base + path, { ...init, headers });
    const body = await res.json();
    if (!res.ok) throw Object.assign(new Error(`lattice ${res.status}: ${body.error?.code}`), { status: res.status, body });
    return body;
  };
  const stream$ = new Subject();
  let es = null;
  if (live) {
    const q = token ? `?access_token=${encodeURIComponent(token)}` : '';
    es = new EventSource(`${base}/stream${q}`, { fetch });
    // data is {documents, checkpoint} or "RESYNC" (first event of every connection).
    es.onmessage = (ev) => stream$.next(JSON.parse(ev.data));
    es.onerror = () => stream$.next('RESYNC');
  }
  const state = replicateRxCollection({
    collection, replicationIdentifier: `lattice:${url}:${name}`, live, retryTime,
    pull: {
      // A page stops at the server's byte budget (hasMore) before batchSize
      // documents: pull on to fill the batch, since RxDB takes a short batch as the end.
      async handler(checkpoint, batchSize) {
        const documents = [];
        for (;;) {
          const q = new URLSearchParams({ batchSize: String(batchSize - documents.length) });
          if (checkpoint) q.set('checkpoint', JSON.stringify(checkpoint));
          const page = await call(`/pull?${q}`, { method: 'GET' });
          documents.push(...page.documents);
          checkpoint = page.checkpoint;
          if (!page.hasMore || documents.length >= batchSize) return { documents, checkpoint };
        }
      },
      stream$: stream$.asObservable(),
    },
    push: {
      // Rows go as RxDB gives them; the answer lists merged master states, which the
      // default conflict handler adopts.
      async handler(rows) {
        return call('/push', { method: 'POST', body: JSON.stringify(rows) });
      },
    },
  });
  const cancel = state.cancel.bind(state);
  state.cancel = async () => { es?.close(); stream$.complete(); return cancel(); };
  return state;
}
