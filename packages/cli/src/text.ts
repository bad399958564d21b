/**
 * Text that came from a file (names, metadata, class lists, file names) is printed only through
 * these helpers: control characters would otherwise reach the terminal as commands (an OSC title
 * sequence, a clear-screen, a fake newline) and bidirectional overrides could reorder what is shown.
 */

/** C0 controls, DEL, C1 controls, and the bidi embedding/override/isolate characters. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

/** `s` with every control character written as a visible escape (`\e`, `\n`, `\x07`, `\u202e`). */
export function safeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/** Every string inside `v` (objects, arrays) passed through safeText; other values as they are. */
export function safeDeep<T>(v: T): T {
  if (typeof v === 'string') return safeText(v) as T;
  if (Array.isArray(v)) return v.map(safeDeep) as T;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [safeText(k), safeDeep(x)])) as T;
  return v;
}

/**
 * JSON text safe for a terminal and still the same JSON: JSON.stringify escapes C0 controls but
 * leaves DEL, C1 controls and bidi overrides raw; those become \uXXXX escapes (lossless).
 */
export function terminalSafeJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
