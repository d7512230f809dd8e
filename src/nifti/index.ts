// Public API of the NIfTI package: read/write .nii(.gz), orientation to RAS+, gzip helpers, errors.
export { readNifti } from './read.ts';
export { writeNifti, type WriteOptions, type WritableVolume } from './write.ts';
export { toCanonical, ioOrientation, axcodesFromAffine, type Orientation } from './orient.ts';
export { NiftiError } from './errors.ts';
export { fromCanonical } from './uncanonical.ts';
export { gunzip, gzip, isGzip } from './gzip.ts';
export type { Volume, AffineSource } from './types.ts';
