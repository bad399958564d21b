/** Exit codes: distinct for usage errors (bad flags/arguments) and runtime failures. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** A problem with what the user typed: one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
