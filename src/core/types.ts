// Small shared types: host tensors, voxel arrays, affines and branded units. No DOM, no tfjs.

/** Element types a host tensor or a voxel array can hold. */
export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

export type Dtype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

/** A tensor on the host: row-major (C order) data of the given shape. */
export interface HostTensor {
  dtype: Dtype;
  shape: number[];
  data: VoxelArray;
}

/** A 4×4 affine, row-major: world = M · [i, j, k, 1]ᵀ. */
export type Mat4 = Float64Array;

export type Vec3 = [number, number, number];

declare const brand: unique symbol;
/** A number tagged with its unit so that, e.g., voxel indices and millimetres cannot be mixed. */
export type Branded<T, B extends string> = T & { readonly [brand]: B };
/** Millimetres in world (RAS+) space. */
export type Millimetres = Branded<number, 'mm'>;
/** An integer voxel index along one axis. */
export type VoxelIndex = Branded<number, 'voxel'>;

export function dtypeOf(a: VoxelArray): Dtype {
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Float32Array) return 'float32';
  return 'float64';
}

/** Allocates a zeroed voxel array of the given dtype. */
export function allocVoxels(dtype: Dtype, length: number): VoxelArray {
  switch (dtype) {
    case 'uint8': return new Uint8Array(length);
    case 'int8': return new Int8Array(length);
    case 'int16': return new Int16Array(length);
    case 'uint16': return new Uint16Array(length);
    case 'int32': return new Int32Array(length);
    case 'uint32': return new Uint32Array(length);
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
  }
}

/** Throws an Error with the message when the condition is false. */
export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new Error(typeof message === 'string' ? message : message());
}
