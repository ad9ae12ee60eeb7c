// Writes an initramfs archive (cpio "newc") from a map of relative paths to directories and files.
export function newc(entries) {
  const parts = [];
  let ino = 1;
  const pad = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  const put = (name, mode, data) => {
    const nameBuf = Buffer.from(name + "\0");
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBuf.length, 0];
    const header = Buffer.from("070701" + fields.map((f) => f.toString(16).padStart(8, "0")).join(""));
    parts.push(header, nameBuf, pad(header.length + nameBuf.length), data, pad(data.length));
  };
  for (const [path, e] of entries) {
    if (e.type === "dir") put(path, 0o040755, Buffer.alloc(0));
    else put(path, 0o100000 | e.mode, Buffer.from(e.data));
  }
  put("TRAILER!!!", 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}
