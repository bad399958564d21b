/**
 * Every output a command will write, checked before any work: an empty path or the same file given
 * to two flags is a usage mistake (exit 2, naming the flags); what the final write would refuse
 * (an existing file without --force, a directory or a dangling symlink in the way, a read-only
 * folder) fails at once too (safe-fs checkOutputFile / checkOutputDir).
 */
import { resolve } from 'node:path';
import { checkOutputDir, checkOutputFile } from '@effnet/safe-fs';
import { UsageError } from './errors.js';

export interface OutputSpec {
  /** The flag, as the user typed it (e.g. `--json`). */
  readonly flag: string;
  /** The path given (undefined: the flag was not given). */
  readonly path: string | undefined;
  /** A report directory holding `files`, rather than one file. */
  readonly dir?: boolean;
  readonly files?: readonly string[];
}

export function checkOutputs(outputs: readonly OutputSpec[], o: { force?: boolean } = {}): void {
  const seen = new Map<string, string>();
  for (const out of outputs) {
    if (out.path === undefined) continue;
    if (out.path.trim() === '') throw new UsageError(`${out.flag}: empty path; give a ${out.dir ? 'directory' : 'file'} path`);
    const files = out.dir ? (out.files ?? []).map((f) => resolve(out.path!, f)) : [resolve(out.path)];
    for (const f of files) {
      const other = seen.get(f);
      if (other) throw new UsageError(`${other} and ${out.flag} both write ${out.path}: give them different paths`);
      seen.set(f, out.flag);
    }
  }
  for (const out of outputs) {
    if (out.path === undefined) continue;
    if (out.dir) checkOutputDir(out.path, out.files ?? []);
    else checkOutputFile(out.path, { overwrite: !!o.force });
  }
}
