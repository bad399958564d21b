/** effnet command line: one file per command under commands/, parsing by commander. */
import { Command, CommanderError } from 'commander';
import { BlockStringError, UnknownModelError } from '@effnet/efficientnet';
import { OptionError } from '@effnet/graph-builder';
import { OutputExistsError } from '@effnet/safe-fs';
import { ClassMappingError } from '@effnet/images';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError } from './errors.js';
import { safeText } from './text.js';
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

/**
 * Error classes that mean "you asked for something invalid" (exit 2) rather than "it failed" (exit 1).
 * Decided by class, never by name strings: anything else — engine RangeErrors (out of memory, stack
 * overflow) included — is a runtime failure.
 */
const USAGE_ERRORS = [UsageError, OptionError, UnknownModelError, BlockStringError, OutputExistsError, ClassMappingError] as const;

export function exitCodeOf(e: unknown): number {
  return USAGE_ERRORS.some((C) => e instanceof C) ? EXIT_USAGE : EXIT_RUNTIME;
}

/** The message in the CLI's own words: libraries say `overwrite: true`, the CLI says --force. */
function messageOf(e: Error): string {
  if (e instanceof OutputExistsError) return `${e.path}: already exists (use --force to overwrite)`;
  return e.message;
}

let cursorRestored = false;

/** Progress bars hide the terminal cursor; show it again however the process ends (Ctrl-C included). */
function restoreCursorOnExit(): void {
  if (cursorRestored || !process.stderr.isTTY) return;
  cursorRestored = true;
  process.on('exit', () => process.stderr.write('\x1b[?25h'));
}

let pipesWatched = false;

/**
 * `effnet … | head -1`: the reader closed the pipe. Stop quietly (exit 0, as a filter should),
 * instead of a stack trace for a write nobody will read.
 */
function exitQuietlyOnClosedPipe(): void {
  if (pipesWatched) return;
  pipesWatched = true;
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
}

export async function main(argv: readonly string[]): Promise<number> {
  restoreCursorOnExit();
  exitQuietlyOnClosedPipe();
  const verbose = argv.includes('--verbose');
  const program = new Command('effnet')
    .description('EfficientNet B0–B7, V2 and Lite, MobileNetV1/V2/V3, MnasNet, ResNet and AmoebaNet-B as standard ONNX: build, export, inspect, benchmark, evaluate, serve')
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
    process.stderr.write(
      `effnet: error: ${safeText(
        messageOf(err)
          .trim()
          .split(/\s*\n\s*/)
          .join(' | '),
      )}\n`,
    );
    if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
}
