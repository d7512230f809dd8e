// Runs a worker's async message handler one message at a time, in arrival order (the next starts when the previous
// one's promise settles, whether it resolved or threw).

/**
 * Wraps `handle` so that calls never overlap. `onError` gets what a call threw (the chain goes on after it).
 * NOTE: a handler that never settles holds back every later message; handlers that start long work they do not
 * need to wait for (a training run) start it without awaiting it.
 */
export function inOrder<M>(handle: (msg: M) => Promise<void>, onError: (err: unknown) => void): (msg: M) => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return (msg: M) => {
    last = last.then(() => handle(msg)).catch(onError);
    return last;
  };
}
