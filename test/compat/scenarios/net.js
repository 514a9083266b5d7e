// Test helpers: a fetch that can be switched offline, and polling.
export function makeNet() {
  const net = { offline: false };
  net.fetch = async (input, init) => {
    if (net.offline) throw new TypeError('fetch failed (offline)');
    return globalThis.fetch(input, init);
  };
  return net;
}

export async function until(what, pred, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { last = await pred(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A document of bigPad characters weighs about 35 KB: a pull of two dozen of them
// spans several pages of the compat nodes' page budget (limits.maxPageBytes 256 KiB,
// compat_test.go).
export const bigPad = 35 << 10;
let bigMid = 0;

// putBig writes big documents {title, pad} to coll through the native push, a few
// per push (the body limit is 4 MiB).
export async function putBig(ctx, coll, ids, title) {
  for (let i = 0; i < ids.length; i += 4) {
    await nativePush(ctx, coll, ids.slice(i, i + 4).map((id) => ({ id, mid: ++bigMid, set: { title, pad: 'x'.repeat(bigPad) } })));
  }
}

// removeDocs deletes ids in coll through the native push.
export async function removeDocs(ctx, coll, ids) {
  await nativePush(ctx, coll, ids.map((id) => ({ id, mid: ++bigMid, delete: true })));
}

async function nativePush(ctx, coll, mutations) {
  const res = await fetch(`${ctx.url}/v1/collections/${coll}/push`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Lattice-Client': 'bulk-writer' }, body: JSON.stringify({ mutations }),
  });
  if (!res.ok) throw new Error(`native push to ${coll}: ${res.status} ${await res.text()}`);
}

// countingFetch counts the pull requests made through it; after the next one,
// between() (if set) runs once, before the glue reads the answer: a write landing
// between two pages of one pull.
export function countingFetch() {
  const f = { pulls: 0, between: null };
  f.fetch = async (input, init) => {
    const res = await globalThis.fetch(input, init);
    if (String(input).includes('/pull')) {
      f.pulls++;
      const between = f.between; f.between = null;
      await between?.();
    }
    return res;
  };
  return f;
}
