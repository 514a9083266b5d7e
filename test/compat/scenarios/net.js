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
