/**
 * @effnet/safe-fs: output files that are never half-written. Dependency-free (Node built-ins only).
 *
 * - {@link AtomicFile} / {@link writeFileAtomic}: write to a temp file beside the target, rename when complete.
 * - {@link checkOutputFile} / {@link checkOutputDir}: fail before a long run what its final write would refuse.
 * - {@link makeTempDir}: scratch directories removed on remove(), exit and SIGINT/SIGTERM/SIGHUP.
 * - {@link OutputExistsError}: the target exists and `overwrite: true` was not given (carries `path`).
 * - {@link assertRegularFile} / {@link readRegularFile} / {@link readRegularFileAsync}: read untrusted input paths only when
 *   they are regular files (a FIFO would block, /dev/zero never ends), with a size cap.
 */
export { AtomicFile, checkOutputDir, checkOutputFile, makeTempDir, OutputExistsError, writeFileAtomic, type AtomicOptions, type TempDir } from './atomic.js';
export { assertRegularFile, FileTypeError, openRegularFile, readRegularFile, readRegularFileAsync } from './file-check.js';
