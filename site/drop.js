// Drag and drop anywhere on the page, and paste: files and folders are
// read (folders recursively) and handed to onFiles as a list of
// {file, path, folder}; a drop target covers the page while something is
// dragged over it.

// readEntry walks a FileSystemEntry into out.
async function readEntry(entry, prefix, top, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    out.push({ file, path: prefix + file.name, folder: top });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = entry.createReader();
  for (;;) {
    // readEntries returns at most ~100 entries per call: read until empty.
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    for (const e of batch) await readEntry(e, `${prefix}${entry.name}/`, top ?? entry.name, out);
  }
}

// filesOf reads a DataTransfer (drop or paste).
export async function filesOf(dt) {
  const out = [];
  const entries = [];
  for (const item of dt.items || []) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else { const f = item.getAsFile(); if (f) out.push({ file: f, path: f.name, folder: null }); }
  }
  // Entries first taken synchronously (the DataTransfer empties after the
  // event), then read.
  for (const e of entries) await readEntry(e, "", null, out);
  if (!out.length && dt.files) for (const f of dt.files) out.push({ file: f, path: f.name, folder: null });
  return out;
}

// installDrop makes the whole page a drop target.
export function installDrop(target, onFiles) {
  let depth = 0;
  const show = (on) => {
    target.hidden = !on;
    document.body.classList.toggle("dragging", on);
  };
  const hasFiles = (e) => e.dataTransfer && [...(e.dataTransfer.types || [])].includes("Files");
  window.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    show(true);
  });
  window.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault(); // allows the drop
    e.dataTransfer.dropEffect = "copy";
    show(true);
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) show(false);
  });
  window.addEventListener("drop", async (e) => {
    if (!e.dataTransfer) return;
    e.preventDefault();
    depth = 0;
    show(false);
    onFiles(await filesOf(e.dataTransfer), "drop");
  });
  window.addEventListener("paste", async (e) => {
    if (!e.clipboardData || !e.clipboardData.files.length) return;
    if (e.target.closest && e.target.closest("input[type=text], input[type=number], textarea")) return;
    e.preventDefault();
    onFiles(await filesOf(e.clipboardData), "paste");
  });
}
