/** Polls `ok` every 20 ms until it holds; throws after `timeout_ms`, naming what it waited for (`what` read then). */
export async function untilTrue(ok: () => boolean, timeout_ms: number, what: () => string): Promise<void> {
  const end = Date.now() + timeout_ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
