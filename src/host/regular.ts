// Reading a file the caller did not choose (a policy file named in a registry entry): regular files only.
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";

/** The text of a regular file of at most MAX bytes, opened non-blocking (a FIFO or a device in
 * its place can neither hang the reader nor feed it endless data). Throws an errno-coded error
 * (EINVAL for anything but a regular file, EFBIG when too large) as readFileSync would. */
export function readRegularFile(path: string, max = 4 << 20): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${path}: not a regular file`), { code: "EINVAL" });
    if (st.size > max) throw Object.assign(new Error(`${path}: larger than ${max} bytes`), { code: "EFBIG" });
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}
