// Starts several servers for a global setup, in parallel, and stops all of
// them (in reverse order) whatever happened: if one fails to start, the
// others that did start are stopped before the error propagates.
export interface Stoppable {
  stop(): Promise<void>;
}

export async function startAll<T extends Record<string, () => Promise<Stoppable>>>(
  starters: T,
): Promise<{ servers: { [K in keyof T]: Awaited<ReturnType<T[K]>> }; stop(): Promise<void> }> {
  const names = Object.keys(starters) as (keyof T)[];
  const settled = await Promise.allSettled(names.map((n) => starters[n]!()));
  const started: Stoppable[] = [];
  const errors: unknown[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') started.push(s.value);
    else errors.push(s.reason);
  }
  const stop = async () => {
    const failures: unknown[] = [];
    for (const s of started.reverse()) {
      try {
        await s.stop();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length) throw new AggregateError(failures, 'stopping test servers');
  };
  if (errors.length) {
    await stop().catch(() => {});
    const message = errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n\n');
    throw new Error(`test environment failed to start:\n${message}`);
  }
  const servers = Object.fromEntries(
    names.map((n, i) => [n, (settled[i] as PromiseFulfilledResult<Stoppable>).value]),
  ) as { [K in keyof T]: Awaited<ReturnType<T[K]>> };
  return { servers, stop };
}

/** A started server's connection info, without its stop() (for project.provide). */
export function info<T extends Stoppable>(server: T): Omit<T, 'stop'> {
  const { stop: _stop, ...rest } = server;
  return rest;
}
