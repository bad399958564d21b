export { main } from './main.js';
export { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError } from './errors.js';
