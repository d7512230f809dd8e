// inOrder: calls made at once run one after the other, in order, and a failing call does not stop the next.
import { describe, expect, it } from 'vitest';
import { inOrder } from './inOrder.ts';

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

describe('inOrder', () => {
  it('never overlaps two calls and keeps their order', async () => {
    const log: string[] = [];
    let inside = 0;
    let most = 0;
    const run = inOrder(async (m: { name: string; waits: number }) => {
      inside++;
      most = Math.max(most, inside);
      log.push(`start ${m.name}`);
      for (let i = 0; i < m.waits; i++) await tick();
      log.push(`end ${m.name}`);
      inside--;
    }, () => {});
    // The first call waits longest: without the queue the second would start (and end) first.
    await Promise.all([run({ name: 'probe', waits: 5 }), run({ name: 'load', waits: 1 }), run({ name: 'evaluate', waits: 0 })]);
    expect(most).toBe(1);
    expect(log).toEqual(['start probe', 'end probe', 'start load', 'end load', 'start evaluate', 'end evaluate']);
  });

  it('reports an error and goes on with the next call', async () => {
    const errors: unknown[] = [];
    const done: number[] = [];
    const run = inOrder(async (n: number) => {
      await tick();
      if (n === 1) throw new Error('step 1 failed');
      done.push(n);
    }, (err) => errors.push(err));
    await Promise.all([run(1), run(2)]);
    expect(done).toEqual([2]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['step 1 failed']);
  });
});
