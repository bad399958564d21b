/** effnet command line: one file per command under commands/, parsing by commander. */
import { Command, CommanderError } from 'commander';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError } from './errors.js';
import * as list from './commands/list.js';
import * as info from './commands/info.js';
import * as exportCmd from './commands/export.js';
import * as inspect from './commands/inspect.js';
import * as evalCmd from './commands/eval.js';
import * as classify from './commands/classify.js';
import * as bench from './commands/bench.js';
import * as scaleSearch from './commands/scale-search.js';
import * as serve from './commands/serve.js';

const COMMANDS = [list, info, exportCmd, inspect, bench, evalCmd, classify, scaleSearch, serve];

/** Errors that mean "you asked for something invalid" rather than "it failed". */
const USAGE_ERRORS = new Set(['UsageError', 'UnknownModelError', 'RangeError', 'OptionError', 'BlockStringError', 'OutputExistsError']);
/** RangeErrors of the JavaScript engine itself (out of memory, stack overflow) are runtime failures. */
const ENGINE_LIMIT = /^(Maximum call stack size exceeded|Array buffer allocation failed|Invalid (typed )?array length|Invalid string length)/;

let cursorRestored = false;

/** Progress bars hide the terminal cursor; show it again however the process ends (Ctrl-C included). */
function restoreCursorOnExit(): void {
  if (cursorRestored || !process.stderr.isTTY) return;
  cursorRestored = true;
  process.on('exit', () => process.stderr.write('\x1b[?25h'));
}

export async function main(argv: readonly string[]): Promise<number> {
  restoreCursorOnExit();
  const verbose = argv.includes('--verbose');
  const program = new Command('effnet')
    .description('EfficientNet B0–B7 as standard ONNX: build, export, benchmark, evaluate')
    .version('0.1.0')
    .option('--verbose', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(`effnet: ${s}`) });
  for (const c of COMMANDS) c.register(program);
  for (const c of program.commands) c.exitOverride().showHelpAfterError(`(run 'effnet ${c.name()} --help' for usage)`);
  try {
    await program.parseAsync(['node', 'effnet', ...argv.filter((a) => a !== '--verbose')]);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      return EXIT_USAGE; // commander already printed one error line and one hint line
    }
    const err = e instanceof Error ? e : new Error(String(e));
    // One line, whatever the message holds (library errors can span lines); --verbose shows it all.
    process.stderr.write(`effnet: error: ${err.message.trim().split(/\s*\n\s*/).join(' | ')}\n`);
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    return (USAGE_ERRORS.has(err.name) && !ENGINE_LIMIT.test(err.message)) || err instanceof UsageError ? EXIT_USAGE : EXIT_RUNTIME;
  }
}
