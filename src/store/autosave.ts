// Autosave: the running run's checkpoints kept in browser storage, offered back after a reload. (Being built.)
import type { CheckpointSummary } from '../workers/train.protocol.ts';

/** Keeps the latest checkpoint of the current run in browser storage. */
export async function saveAutosave(_name: string, _bytes: Uint8Array, _summary: CheckpointSummary): Promise<void> {}
