// The few pieces needed to write small WebAssembly modules by hand (the AdamW update, the matrix product): LEB128
// integers, sections, and the opcodes used. Pure: no tfjs here.

/** Value types. */
export const I32 = 0x7f, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;
/** Control and variables. */
export const BLOCK = 0x02, LOOP = 0x03, BR_IF = 0x0d, END = 0x0b, VOID = 0x40;
export const LOCAL_GET = 0x20, LOCAL_SET = 0x21, LOCAL_TEE = 0x22;
/** Scalar numbers. */
export const I32_CONST = 0x41, F32_CONST = 0x43, I32_EQZ = 0x45, I32_LT_U = 0x49;
export const I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c, I32_SHR_U = 0x76;
export const F32_LOAD = 0x2a, F32_STORE = 0x38, F32_ADD = 0x92, F64_ADD = 0xa0;

/** SIMD opcodes (after the 0xfd prefix), fixed-width SIMD and relaxed SIMD's fused multiply–add. */
export const V128_LOAD = 0x00, V128_LOAD32_SPLAT = 0x09, V128_STORE = 0x0b, V128_CONST = 0x0c, I8X16_SHUFFLE = 0x0d;
export const F32X4_SPLAT = 0x13, F32X4_EXTRACT_LANE = 0x1f, F64X2_EXTRACT_LANE = 0x21;
export const F64X2_PROMOTE_LOW_F32X4 = 0x5f;
export const F32X4_SQRT = 0xe3, F32X4_ADD = 0xe4, F32X4_SUB = 0xe5, F32X4_MUL = 0xe6, F32X4_DIV = 0xe7;
export const F64X2_ADD = 0xf0, F64X2_MUL = 0xf2;
export const F32X4_RELAXED_MADD = 0x105;

/** Unsigned LEB128 (sizes, indices, memarg offsets). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const's immediate: 64 needs two bytes, since bit 6 of the last byte is the sign). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** `i32.const n`. */
export const i32 = (n: number): number[] => [I32_CONST, ...sleb(n)];
/** `f32.const x`. */
export const f32 = (x: number): number[] => [F32_CONST, ...new Uint8Array(new Float32Array([x]).buffer)];
/** A SIMD instruction: 0xfd, then the opcode as unsigned LEB128. */
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** A name: its length, then its bytes. */
export const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
/** A section: id, byte length, body. */
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
/** The module header (magic and version 1). */
export const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A function body: its local declarations ([count, type] pairs) and code (ending with END). */
export function funcBody(locals: Array<[number, number]>, code: number[]): number[] {
  const decl = [...uleb(locals.length), ...locals.flatMap(([n, t]) => [...uleb(n), t])];
  return [...uleb(decl.length + code.length), ...decl, ...code];
}

/** The import of `env.memory` (`shared`: a shared memory, which must state a maximum: 65536 pages admit any). */
export const importMemory = (shared: boolean): number[] =>
  section(2, [1, ...str('env'), ...str('memory'), 0x02, ...(shared ? [0x03, 0, ...uleb(65536)] : [0x00, 0])]);
