// Files from a drop: plain files and whole folders (walked recursively via
// the File and Directory Entries API, which Chromium, Firefox and Safari have).

export async function filesFromDrop(dt: DataTransfer): Promise<File[]> {
  const entries: FileSystemEntry[] = []
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue
    const entry = item.webkitGetAsEntry?.()
    if (entry) entries.push(entry)
  }
  if (!entries.length) return Array.from(dt.files ?? [])
  const out: File[] = []
  for (const e of entries) await walk(e, out)
  return out
}

async function walk(entry: FileSystemEntry, out: File[], depth = 0): Promise<void> {
  if (depth > 16) return
  if (entry.isFile) {
    const f = await new Promise<File | null>((res) => (entry as FileSystemFileEntry).file(res, () => res(null)))
    if (f && !f.name.startsWith('.')) out.push(f)
    return
  }
  if (!entry.isDirectory) return
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  // readEntries returns at most ~100 entries per call: read until empty.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res) => reader.readEntries(res, () => res([])))
    if (!batch.length) break
    for (const child of batch) await walk(child, out, depth + 1)
  }
}

/** hasFiles tells a drag carrying files from one carrying text or links. */
export function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files')
}
