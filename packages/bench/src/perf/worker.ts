/**
 * Child-process entry of an isolated measurement: receives one BenchJob over IPC, reports progress,
 * sends the result (or the error) and exits. A native crash ends only this process.
 */
import { EpUnavailableError } from '@effnet/runtime';
import { measureJob, type BenchJob } from './measure.js';
import type { WorkerMessage } from './run.js';

function send(m: WorkerMessage): Promise<void> {
  return new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));
}

let finished = false;
// The parent is gone (killed, or Ctrl-C reached only it): stop measuring for nobody. Exiting runs the
// cleanup of temporary files (@effnet/safe-fs makeTempDir/AtomicFile).
process.on('disconnect', () => {
  if (!finished) process.exit(1);
});

process.once('message', (job: BenchJob) => {
  measureJob(job, (e) => void send({ type: 'progress', event: e }), true)
    .then((result) => send({ type: 'result', result }))
    .catch((e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      return send({ type: 'error', epUnavailable: err instanceof EpUnavailableError, name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
    })
    .finally(() => {
      finished = true;
      process.disconnect();
    });
});
