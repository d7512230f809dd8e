// A failed write of the trained model (issue 15): the weights go to the temp folder and the log says where; only
// when that fails too is the error thrown, naming both places.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeOrRescue } from '../../src/cli/train.ts';

describe('writeOrRescue', () => {
  it('writes to --out when it can, else to the rescue folder, and says so', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'inflateseg-write-'));
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const lines: string[] = [];
    expect(writeOrRescue(path.join(root, 'ok'), 'model.safetensors', bytes, (l) => lines.push(l))).toBe(path.join(root, 'ok', 'model.safetensors'));
    expect(lines).toEqual([]);
    // A folder where the file should go (as a full disk or a read-only mount would, the rename fails).
    const out = path.join(root, 'blocked');
    mkdirSync(path.join(out, 'model.safetensors', 'x'), { recursive: true });
    const rescue = path.join(root, 'rescue');
    const got = writeOrRescue(out, 'model.safetensors', bytes, (l) => lines.push(l), rescue);
    expect(got).toBe(path.join(rescue, `inflateseg-rescued-${process.pid}-model.safetensors`));
    expect([...readFileSync(got)]).toEqual([1, 2, 3, 4]);
    expect(lines.join('\n')).toMatch(new RegExp(`model\\.safetensors: could not be written .*\\n  the trained model was written to ${got.replace(/[.]/g, '\\.')} instead`));
    // Both places refuse: one error naming both.
    const notADir = path.join(root, 'file');
    writeFileSync(notADir, 'x');
    expect(() => writeOrRescue(out, 'model.safetensors', bytes, () => {}, notADir)).toThrow(/model\.safetensors: could not be written .*; writing it to .*file failed too .*: the trained weights are lost/);
  });
});
