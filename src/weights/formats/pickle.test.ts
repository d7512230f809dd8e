// The unpickler on pickles written by CPython 3 (hex below, from pickle.dumps): values, memo sharing, opaque
// classes, and its errors (unsupported opcode, truncation) naming the opcode and the byte offset.
import { describe, expect, it } from 'vitest';
import { CheckpointError } from './errors.ts';
import { opaqueGlobal, PyGlobal, PyObject, unpickle } from './pickle.ts';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const hooks = {
  findClass: (m: string, n: string) => {
    if (`${m}.${n}` === 'collections.OrderedDict') return new PyGlobal('OrderedDict', () => new Map());
    if (`${m}.${n}` === '_codecs.encode') return new PyGlobal('encode', (a) => Uint8Array.from(a[0] as string, (c) => c.charCodeAt(0)));
    return opaqueGlobal(m, n);
  },
};
const load = (h: string) => unpickle(hex(h), 'test.pth', 'data.pkl', hooks);

// {'a': [1, 2.5, 'x', None, True, False], 'b': (2**70, -1, 300, 70000, -2**31), 'c': b'\x00\x01', 'd': ('é',)}
const P2 = '80027d71002858010000006171015d7102284b0147400400000000000058010000007871034e8889655801000000627104288a090000000000000000404affffffff4d2c014a701101004a000000807471055801000000637106635f636f646563730a656e636f64650a710758020000000001710858060000006c6174696e31710986710a52710b580100000064710c5802000000c3a9710d85710e752e';
const P4 = '80049557000000000000007d94288c0161945d94284b014740040000000000008c0178944e8889658c016294288a090000000000000000404affffffff4d2c014a701101004a0000008074948c01639443020001948c0164948c02c3a9948594752e';

describe('unpickle', () => {
  it.each([['protocol 2', P2], ['protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, SHORT_BINBYTES)', P4]])('%s', (_, h) => {
    const v = load(h) as Map<string, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect(v.get('a')).toEqual([1, 2.5, 'x', null, true, false]);
    expect(v.get('b')).toEqual([2n ** 70n, -1, 300, 70000, -(2 ** 31)]);
    expect(v.get('c')).toEqual(new Uint8Array([0, 1]));
    expect(v.get('d')).toEqual(['é']);
  });

  it('memo: one list referenced twice is one object', () => {
    const v = load('80027d71002858010000007871015d71024b016158010000007971036802752e') as Map<string, unknown>;
    expect(v.get('x')).toEqual([1]);
    expect(v.get('x')).toBe(v.get('y'));
  });

  it('OrderedDict keeps its order', () => {
    const v = load('800263636f6c6c656374696f6e730a4f726465726564446963740a7100295271012858010000007a71024b0158010000006171034b02752e');
    expect([...(v as Map<string, number>)]).toEqual([['z', 1], ['a', 2]]);
  });

  it('an unknown class (argparse.Namespace) becomes an opaque object with its state', () => {
    const v = load('80026361726770617273650a4e616d6573706163650a7100298171017d71022858020000006c727103473fe000000000000058040000006e616d6571045803000000766974710575622e');
    expect(v).toBeInstanceOf(PyObject);
    const o = v as PyObject;
    expect(o.className).toBe('argparse.Namespace');
    expect([...(o.state as Map<string, unknown>)]).toEqual([['lr', 0.5], ['name', 'vit']]);
  });

  it('sets (protocol 4 EMPTY_SET / ADDITEMS)', () => {
    expect(load('80049509000000000000008f94284b014b02902e')).toEqual(new Set([1, 2]));
  });

  it('an unsupported opcode is named with its offset', () => {
    // PROTO 2, then INST (protocol 0) at byte 2.
    expect(() => unpickle(hex('80026900'), 'x.pth', 'x/data.pkl', hooks)).toThrow(
      "x.pth: x/data.pkl: unsupported pickle opcode 0x69 'i' (INST) at byte 2",
    );
    expect(() => unpickle(hex('8002ff'), 'x.pth', 'data.pkl', hooks)).toThrow(/opcode 0xff \(not a pickle opcode\) at byte 2/);
  });

  it('truncation and corruption are errors, not garbage', () => {
    expect(() => load(P2.slice(0, 60))).toThrow(CheckpointError);
    expect(() => load('80024b')).toThrow(/pickle ends early/);
    expect(() => load('800230')).toThrow(/stack is empty/);
    expect(() => load('80026805')).toThrow(/memo entry 5 was never stored/);
    expect(() => load('80024b0165')).toThrow(/no MARK/);
  });

  it('persistent ids need a loader', () => {
    expect(() => load('80024b0151')).toThrow(/persistent id without a persistent loader/);
    const v = unpickle(hex('80024b07512e'), 'f', 'p', { ...hooks, persistentLoad: (pid) => ({ pid }) });
    expect(v).toEqual({ pid: 7 });
  });
});
