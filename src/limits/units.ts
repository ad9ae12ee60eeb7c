// Units of limit values: sizes (K/M/G/T, binary), durations (ms/s/m/h), counts; and their display.

/** Binary size multipliers by suffix letter (lower case). */
const sizeMult: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** Duration multipliers to milliseconds by suffix (lower case). */
const timeMult: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Words that mean "no limit" in a limit string. */
export const UNLIMITED_WORDS: readonly string[] = ["unlimited", "infinity", "max", "none"];

/** True when a value string is one of the "no limit" words. */
export function isUnlimitedWord(s: string): boolean {
  return UNLIMITED_WORDS.includes(s.trim().toLowerCase());
}

/** A size ("256M", "1.5g", "4096", "64MiB") in bytes, or undefined when malformed or not positive. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*([kmgtp]?)(i?b)?$/i.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (sizeMult[(m[2] ?? "").toLowerCase()] ?? NaN);
  const bytes = Math.floor(n);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** A duration ("2s", "1500ms", "1.5m", "1h", "3" = seconds) in milliseconds, or undefined. */
export function parseDuration(s: string, defaultUnit: "s" | "ms" = "s"): number | undefined {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|sec|s|min|m|h)?$/i.exec(s.trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * (timeMult[(m[2] ?? defaultUnit).toLowerCase()] ?? NaN));
  return Number.isSafeInteger(ms) && ms >= 1 ? ms : undefined;
}

/** A positive whole count ("64"), or undefined. */
export function parseCount(s: string): number | undefined {
  const t = s.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** A positive decimal number ("1.5", "150%" = 1.5), or undefined. */
export function parseDecimal(s: string, allowPercent = false): number | undefined {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(%?)$/.exec(s.trim());
  if (!m || (m[2] && !allowPercent)) return undefined;
  const n = Number(m[1]) / (m[2] ? 100 : 1);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A byte count for people: "64 MiB", "1.5 GiB", "1000 bytes". */
export function formatSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${bytes} bytes`;
  return `${Number.isInteger(v) ? v : Number(v.toFixed(2))} ${units[i]}`;
}

/** Milliseconds for people: "250 ms", "1 s", "1.5 s", "2 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000 || ms % 60_000 !== 0) return `${Number((ms / 1000).toFixed(3))} s`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  return `${ms / 60_000} min`;
}
