/**
 * @effnet/safe-fs: output files that are never half-written. Dependency-free (Node built-ins only).
 *
 * - {@link AtomicFile} / {@link writeFileAtomic}: write to a temp file beside the target, rename when complete.
 * - {@link checkOutputFile} / {@link checkOutputDir}: fail before a long run what its final write would refuse.
 * - {@link makeTempDir}: scratch directories removed on remove(), exit and SIGINT/SIGTERM/SIGHUP.
 * - {@link OutputExistsError}: the target exists and `overwrite: true` was not given (carries `path`).
 */
export { AtomicFile, checkOutputDir, checkOutputFile, makeTempDir, OutputExistsError, writeFileAtomic, type AtomicOptions, type TempDir } from './atomic.js';
