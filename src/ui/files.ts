// Turns a drop (files and folders) or a file-picker selection into InputFile records with relative paths.
import type { InputFile } from '../store/load.ts';

/** Reads every file of a drop, walking dropped folders so MSD-style trees keep their paths. */
export async function filesFromDrop(dt: DataTransfer): Promise<InputFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(dt.files ?? []));
  const out: InputFile[] = loose.map((file) => ({ path: file.name, file }));
  for (const e of entries) out.push(...(await walk(e, '')));
  return out;
}

async function walk(entry: FileSystemEntry, prefix: string): Promise<InputFile[]> {
  const path = prefix + entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    return [{ path, file }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries returns at most ~100 entries per call: read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const nested = await Promise.all(children.map((c) => walk(c, path + '/')));
  return nested.flat();
}

/** Files from an <input type="file"> (with webkitdirectory, webkitRelativePath holds the folder path). */
export function filesFromInput(list: FileList | null): InputFile[] {
  return Array.from(list ?? []).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}
