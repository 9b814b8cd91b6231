// One process runs the API gateway, the informers and the controllers (the all-in-one, ADR 9):
// a long synchronous run of any of them - an informer applying thousands of buffered KV entries,
// which the NATS client hands over through microtasks only, or a controller draining a queue of
// syncs that need no write - is time in which the gateway reads no request. Such loops check
// sliceUsed() and give the event loop a turn (I/O first: setImmediate) once SLICE_MS of
// back-to-back work has passed. The slice is shared by every loop of the process.
export const SLICE_MS = 10;
let sliceStart = performance.now();

/** Whether the current run of work has had its SLICE_MS. Cheap: call it per item. */
export function sliceUsed(): boolean {
  return performance.now() - sliceStart >= SLICE_MS;
}

/** Lets pending I/O and timers run, then starts a new slice. */
export async function nextTurn(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  sliceStart = performance.now();
}
