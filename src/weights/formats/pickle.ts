// A small unpickler for protocols 2–5 (every opcode torch.save emits, plus the common binary ones). It never runs
// code: globals are resolved by the caller's findClass; unknown classes become opaque PyObjects keeping args and state.
import { CheckpointError, fmtInt } from './errors.ts';

/** An instance of a class the reader does not model: its constructor arguments, BUILD state and dict/list items. */
export class PyObject {
  state: unknown = undefined;
  readonly items = new Map<unknown, unknown>();
  readonly list: unknown[] = [];
  constructor(readonly className: string, readonly args: unknown[]) {}
}

/** A global (class or function) as the pickle names it; `call` is what REDUCE / NEWOBJ do with it. */
export class PyGlobal {
  constructor(readonly className: string, readonly call: (args: unknown[]) => unknown) {}
}

/** A global whose calls build opaque PyObjects. */
export function opaqueGlobal(module: string, name: string): PyGlobal {
  const className = `${module}.${name}`;
  return new PyGlobal(className, (args) => new PyObject(className, args));
}

export interface UnpickleHooks {
  /** Resolves GLOBAL / STACK_GLOBAL; return a PyGlobal (callable) or any constant. */
  findClass(module: string, name: string): unknown;
  /** Resolves BINPERSID; without it persistent ids are an error. */
  persistentLoad?(pid: unknown): unknown;
}

/** Names of every pickle opcode, for messages. */
const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries({
    '(': 'MARK', '.': 'STOP', '0': 'POP', '1': 'POP_MARK', '2': 'DUP', F: 'FLOAT', I: 'INT', J: 'BININT', K: 'BININT1',
    L: 'LONG', M: 'BININT2', N: 'NONE', P: 'PERSID', Q: 'BINPERSID', R: 'REDUCE', S: 'STRING', T: 'BINSTRING',
    U: 'SHORT_BINSTRING', V: 'UNICODE', X: 'BINUNICODE', a: 'APPEND', b: 'BUILD', c: 'GLOBAL', d: 'DICT', '}': 'EMPTY_DICT',
    e: 'APPENDS', g: 'GET', h: 'BINGET', i: 'INST', j: 'LONG_BINGET', l: 'LIST', ']': 'EMPTY_LIST', o: 'OBJ', p: 'PUT',
    q: 'BINPUT', r: 'LONG_BINPUT', s: 'SETITEM', t: 'TUPLE', ')': 'EMPTY_TUPLE', u: 'SETITEMS', G: 'BINFLOAT',
    '\x80': 'PROTO', '\x81': 'NEWOBJ', '\x82': 'EXT1', '\x83': 'EXT2', '\x84': 'EXT4', '\x85': 'TUPLE1', '\x86': 'TUPLE2',
    '\x87': 'TUPLE3', '\x88': 'NEWTRUE', '\x89': 'NEWFALSE', '\x8a': 'LONG1', '\x8b': 'LONG4', B: 'BINBYTES',
    C: 'SHORT_BINBYTES', '\x8c': 'SHORT_BINUNICODE', '\x8d': 'BINUNICODE8', '\x8e': 'BINBYTES8', '\x8f': 'EMPTY_SET',
    '\x90': 'ADDITEMS', '\x91': 'FROZENSET', '\x92': 'NEWOBJ_EX', '\x93': 'STACK_GLOBAL', '\x94': 'MEMOIZE', '\x95': 'FRAME',
    '\x96': 'BYTEARRAY8', '\x97': 'NEXT_BUFFER', '\x98': 'READONLY_BUFFER',
  }).map(([c, n]) => [c.charCodeAt(0), n]),
);

/** "0x63 'c' (GLOBAL)" */
export function opcodeName(op: number): string {
  const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
  return `0x${op.toString(16).padStart(2, '0')}${ch}${NAMES[op] ? ` (${NAMES[op]})` : ' (not a pickle opcode)'}`;
}

/** Little-endian two's complement bytes → number when safe, else bigint. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Unpickles `bytes`. `file` names the checkpoint and `what` the pickle inside it, for messages
 * ("vit.pth: data.pkl: unsupported pickle opcode 0x69 'i' (INST) at byte 123").
 */
export function unpickle(bytes: Uint8Array, file: string, what: string, hooks: UnpickleHooks): unknown {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder();
  const latin1 = new TextDecoder('latin1');
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let p = 0;
  let at = 0; // offset of the current opcode

  const fail = (problem: string) => new CheckpointError(file, `${what}: ${problem} at byte ${fmtInt(at)}`);
  const need = (n: number) => {
    if (p + n > bytes.length) throw fail(`pickle ends early (needs ${n} more bytes)`);
  };
  const take = (n: number) => {
    need(n);
    p += n;
    return bytes.subarray(p - n, p);
  };
  const u8 = () => take(1)[0];
  const u16 = () => (need(2), (p += 2), dv.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), dv.getUint32(p - 4, true));
  const u64 = () => {
    need(8);
    p += 8;
    const v = dv.getBigUint64(p - 8, true);
    if (v > BigInt(bytes.length)) throw fail(`length ${v} exceeds the pickle`);
    return Number(v);
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) throw fail('pickle ends inside a text line');
    const s = latin1.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) throw fail('corrupt pickle: the stack is empty');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw fail('corrupt pickle: the stack is empty');
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) throw fail('corrupt pickle: no MARK');
    stack = prev;
    return items;
  };
  const call = (fn: unknown, args: unknown) => {
    if (!(fn instanceof PyGlobal)) throw fail(`cannot call ${String(fn)}`);
    if (!Array.isArray(args)) throw fail(`arguments of ${fn.className} are not a tuple`);
    return fn.call(args);
  };
  const setItems = (target: unknown, kv: unknown[]) => {
    const map = target instanceof Map ? target : target instanceof PyObject ? target.items : undefined;
    if (!map) throw fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < kv.length; i += 2) map.set(kv[i], kv[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof PyObject) target.list.push(...items);
    else if (target instanceof Set) for (const x of items) target.add(x);
    else throw fail('APPEND(S) on something that is not a list');
  };

  for (;;) {
    at = p;
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: take(8); break; // FRAME: framing only
      case 0x2e: return pop(); // STOP
      case 0x28: marks.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x74: case 0x6c: { const items = popMark(); stack.push(items); break; } // TUPLE, LIST
      case 0x91: { const items = popMark(); stack.push(new Set(items)); break; } // FROZENSET
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; } // TUPLE3
      case 0x64: { const kv = popMark(); const m = new Map(); setItems(m, kv); stack.push(m); break; } // DICT
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: case 0x90: { const items = popMark(); appendItems(top(), items); break; } // APPENDS, ADDITEMS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x4a: need(4); stack.push(dv.getInt32(p, true)); p += 4; break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: stack.push(decodeLong(take(u32()))); break; // LONG4
      case 0x47: need(8); stack.push(dv.getFloat64(p, false)); p += 8; break; // BINFLOAT (big-endian)
      case 0x58: stack.push(utf8.decode(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(utf8.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8.decode(take(u64()))); break; // BINUNICODE8
      case 0x55: stack.push(latin1.decode(take(u8()))); break; // SHORT_BINSTRING (Python 2 str)
      case 0x54: stack.push(latin1.decode(take(u32()))); break; // BINSTRING
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x8e: case 0x96: stack.push(take(u64()).slice()); break; // BINBYTES8, BYTEARRAY8
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) throw fail(`memo entry ${i} was never stored`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: { const module = line(); stack.push(hooks.findClass(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.findClass(module, name));
        break;
      }
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(); stack.push(call(pop(), args)); break; } // NEWOBJ
      case 0x92: { pop(); const args = pop(); stack.push(call(pop(), args)); break; } // NEWOBJ_EX (kwargs dropped)
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        // NOTE: BUILD on anything else (an OrderedDict's _metadata, a tensor's Python attributes) is dropped.
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!hooks.persistentLoad) throw fail('persistent id without a persistent loader');
        stack.push(hooks.persistentLoad(pid));
        break;
      }
      default:
        throw fail(`unsupported pickle opcode ${opcodeName(op)}`);
    }
  }
}
