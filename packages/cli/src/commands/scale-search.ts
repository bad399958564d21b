import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { formulaInput } from '@effnet/efficientnet';
import { makeTempDir, type TempDir } from '@effnet/safe-fs';
import { coefficientGrid, measureLatency, scaleSearch, writeSearchReports, type CandidateModel, type SearchReport } from '@effnet/bench';
import { createRunner, NODE_EPS, type NodeEp } from '@effnet/runtime';
import { onnxruntimeStatistics, prepareModel } from '@effnet/pipeline';
import { UsageError } from '../errors.js';
import { checkOutputs } from '../check-outputs.js';
import { printJson } from '../output.js';
import { choice, intInRange, LIMITS, numberInRange, threadsOption } from '../parse.js';

interface Flags {
  ep: NodeEp;
  budgetMs?: number;
  budgetFlops?: number;
  budgetMacs?: number;
  tolerance: number;
  grid: { min: number; max: number; step: number };
  phiStep: number;
  maxPhi: number;
  evalCmd?: string;
  iterations: number;
  threads?: number;
  foldBn?: boolean;
  json?: boolean;
  out: string;
}

const MAX_GRID_VALUES = 200;

function gridOption(v: string): { min: number; max: number; step: number } {
  const parts = v.split(':').map(Number);
  // At most MAX_GRID_VALUES values per coefficient: the search visits every (α, β, γ) triple.
  if (
    parts.length !== 3 ||
    parts.some((x) => !Number.isFinite(x)) ||
    parts[0]! < 1 ||
    parts[1]! < parts[0]! ||
    parts[1]! > 10 ||
    parts[2]! <= 0 ||
    (parts[1]! - parts[0]!) / parts[2]! >= MAX_GRID_VALUES
  )
    throw new UsageError(`--grid expects MIN:MAX:STEP with 1 <= MIN <= MAX <= 10, STEP > 0 and at most ${MAX_GRID_VALUES} values (e.g. 1:1.5:0.05), got '${v}'`);
  return { min: parts[0]!, max: parts[1]!, step: parts[2]! };
}

const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;

/**
 * The score protocol of --eval-cmd: the number on the last line of the form `score: <number>`, or
 * else the last non-empty line when it is one number and nothing else. Anything else is refused:
 * picking "the last number" out of free text scored candidates by digits of their own file names.
 */
export function parseScore(stdout: string): number | string {
  const lines = stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const tagged = lines.filter((l) => new RegExp(String.raw`^score\s*:\s*${NUMBER}$`, 'i').test(l));
  if (tagged.length) return Number(tagged[tagged.length - 1]!.replace(/^score\s*:\s*/i, ''));
  const last = lines[lines.length - 1];
  if (last !== undefined && new RegExp(`^${NUMBER}$`).test(last)) return Number(last);
  return `expected a line 'score: <number>' or a number alone on the last line, got ${last === undefined ? 'no output' : `'${last.slice(0, 120)}'`}`;
}

/** The --eval-cmd with {onnx} replaced by the shell-quoted path; quotes the user put around it are dropped (they would be passed literally). */
export function substituteOnnx(cmd: string, path: string): { cmd: string; quoted: boolean } {
  const q = `'${path.replaceAll("'", "'\\''")}'`;
  const quoted = /"\{onnx\}"|'\{onnx\}'/.test(cmd);
  return {
    cmd: cmd
      .replace(/"\{onnx\}"|'\{onnx\}'/g, '{onnx}')
      .split('{onnx}')
      .join(q),
    quoted,
  };
}

export function register(program: Command): void {
  program
    .command('scale-search')
    .description('grid-search compound scaling coefficients (α, β, γ with α·β²·γ² ≈ 2) and φ under a latency or FLOPs budget')
    .addOption(new Option('--ep <ep>', `execution provider for latency: ${NODE_EPS.join(', ')}`).argParser(choice('--ep', NODE_EPS)).default('cpu'))
    .option('--budget-ms <ms>', `p50 latency budget per image (batch 1) on --ep, > 0 and <= ${LIMITS.timeMs}`, numberInRange('--budget-ms', 0, LIMITS.timeMs, { aboveLo: true }))
    .option(
      '--budget-flops <N>',
      `FLOPs budget per image, counted as multiply-adds like the paper (e.g. 1e9), > 0 and <= ${LIMITS.flops}`,
      numberInRange('--budget-flops', 0, LIMITS.flops, { aboveLo: true }),
    )
    .option('--tolerance <t>', 'accept |α·β²·γ²/2 − 1| ≤ t, 0..1', numberInRange('--tolerance', 0, 1), 0.05)
    .option('--grid <min:max:step>', `values tried for each of α, β, γ: 1 <= MIN <= MAX <= 10, STEP > 0, at most ${MAX_GRID_VALUES} values`, gridOption, { min: 1, max: 1.5, step: 0.05 })
    .option('--phi-step <s>', 'φ resolution, > 0 and <= 1', numberInRange('--phi-step', 0, 1, { aboveLo: true }), 0.05)
    .option('--max-phi <p>', 'largest φ considered, up to 20', numberInRange('--max-phi', 0, 20, { aboveLo: true }), 8)
    .option(
      '--eval-cmd <cmd>',
      "score candidates by running this command (sh -c); {onnx} becomes the candidate's .onnx path, already shell-quoted (write {onnx}, not \"{onnx}\"); it prints 'score: <number>' or a number alone on its last line (higher is better)",
    )
    .option('--iterations <N>', `timed runs per latency measurement, at least, 1..${LIMITS.iterations}`, intInRange('--iterations', 1, LIMITS.iterations), 10)
    .option('--threads <N>', `intra-op threads, 1..${LIMITS.threads}`, threadsOption('--threads'))
    .option('--fold-bn', 'measure models with BatchNorm folded')
    .option('--json', 'print results.json to stdout')
    .option('--out <dir>', 'report directory (results.json, results.md, candidates.svg, coefficients.svg are replaced)', 'scale-search-results')
    .addHelpText(
      'after',
      `
Accuracy needs training, which effnet does not do: without --eval-cmd the candidates are ranked by
FLOPs (the largest model that fits), and the report says so.

Examples:
  effnet scale-search --budget-ms 50
  effnet scale-search --budget-flops 1e9 --grid 1:1.4:0.1
  effnet scale-search --budget-ms 30 --eval-cmd './train_and_eval.sh {onnx}'

--eval-cmd protocol: the command runs once per candidate through 'sh -c' with {onnx} replaced by the
candidate's .onnx path, already shell-quoted (so write {onnx}, not "{onnx}"). It must exit 0 and print
a line 'score: <number>' (the last such line counts) or a number alone on its last line; any other
output fails the search. Its stderr passes through.

A latency search (--budget-ms) builds and times at least 3 + one model per (α, β, γ) triple: 91 with the
default grid, several minutes; a coarser --grid or a smaller --tolerance makes it shorter.`,
    )
    .action(async (f: Flags) => {
      const budgets = [f.budgetMs, f.budgetFlops].filter((b) => b !== undefined);
      if (budgets.length !== 1) throw new UsageError('give exactly one of --budget-ms or --budget-flops');
      const budget = f.budgetMs !== undefined ? ({ kind: 'latency', ms: f.budgetMs } as const) : ({ kind: 'macs', macs: f.budgetFlops! } as const);
      checkOutputs([{ flag: '--out', path: f.out, dir: true, files: ['results.json', 'results.md'] }]); // before searching, not after
      if (f.evalCmd !== undefined) {
        if (!f.evalCmd.includes('{onnx}')) throw new UsageError("--eval-cmd must contain {onnx}, the candidate's .onnx path");
        if (substituteOnnx(f.evalCmd, '').quoted)
          process.stderr.write('warning: --eval-cmd: {onnx} is replaced by an already shell-quoted path; the quotes around "{onnx}" were dropped (write {onnx})\n');
      }
      const triples = coefficientGrid({ grid: f.grid, tolerance: f.tolerance }).length;
      if (budget.kind === 'latency' && triples > 5)
        process.stderr.write(
          `note: the latency search builds and times at least ${3 + triples} models (3 calibration points, one per (α, β, γ) triple); this takes minutes. A coarser --grid or smaller --tolerance shortens it.\n`,
        );
      const searchStart = performance.now();
      let estimated = false;
      const build = (m: CandidateModel) =>
        prepareModel('efficientnet', { statistics: onnxruntimeStatistics, width: m.width, depth: m.depth, resolution: m.resolution, ...(f.foldBn ? { foldBn: true } : {}) });

      const measure = async (m: CandidateModel): Promise<number> => {
        const runner = await createRunner(build(m).serialize(), { ep: f.ep, ...(f.threads ? { threads: f.threads } : {}) });
        try {
          const dims = [1, 3, m.resolution, m.resolution];
          const x = formulaInput(dims);
          const t = await measureLatency(() => runner.run(x, dims), { warmup: 2, iterations: f.iterations, minTimeMs: 300, maxTimeMs: 5000 });
          return t.latency.p50;
        } finally {
          await runner.release();
        }
      };

      let tmp: TempDir | undefined; // removed also on Ctrl-C/SIGTERM
      const score = f.evalCmd
        ? async (m: CandidateModel): Promise<number> => {
            tmp ??= makeTempDir('effnet-scale-');
            const path = join(tmp.path, `phi${m.phi}-a${m.coefficients.alpha}-b${m.coefficients.beta}-g${m.coefficients.gamma}.onnx`);
            build(m).write(path, { overwrite: true });
            const { cmd } = substituteOnnx(f.evalCmd!, path);
            const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
            rmSync(path, { force: true });
            if (r.status !== 0) throw new Error(`--eval-cmd exited with ${r.status ?? r.signal} for ${path}: ${cmd}`);
            const s = parseScore(r.stdout);
            if (typeof s === 'string') throw new Error(`--eval-cmd for ${path}: ${s}`);
            return s;
          }
        : undefined;

      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'scale-search [{bar}] {value}/{total} {note}', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      let started = false;
      try {
        const result = await scaleSearch({
          budget,
          grid: f.grid,
          tolerance: f.tolerance,
          phiStep: f.phiStep,
          maxPhi: f.maxPhi,
          ...(budget.kind === 'latency' ? { measure } : {}),
          ...(score ? { score } : {}),
          onProgress: (done, total, note) => {
            // After the 3 calibration points: the time they took says how long the rest will take.
            if (budget.kind === 'latency' && done === 3 && !estimated && total > 6) {
              estimated = true;
              const per = (performance.now() - searchStart) / 3;
              const min = (per * (total - 3)) / 60000;
              process.stderr.write(
                `estimate: about ${min < 1 ? `${Math.max(1, Math.round(min * 60))} s` : `${min.toFixed(0)} min`} more for ${total - 3} triples (${(per / 1000).toFixed(1)} s per model measured)\n`,
              );
            }
            if (bar) {
              if (!started) bar.start(total, 0, { note });
              started = true;
              bar.setTotal(total);
              bar.update(done, { note });
            } else console.error(`scale-search ${done}/${total} ${note}`);
          },
        });
        bar?.stop();
        const report: SearchReport = {
          tool: 'effnet scale-search',
          date: new Date().toISOString(),
          ...(budget.kind === 'latency' ? { ep: f.ep } : {}),
          note: score ? `Scores from --eval-cmd: ${f.evalCmd}` : 'No --eval-cmd: accuracy was not measured; the ranking is by the FLOPs proxy (the largest model under the budget).',
          ...result,
        };
        const files = await writeSearchReports(report, resolve(f.out));
        if (f.json) printJson(report);
        else {
          const b = result.best;
          console.log(
            b
              ? `choice: α=${b.coefficients.alpha} β=${b.coefficients.beta} γ=${b.coefficients.gamma} φ=${b.phi} → width ${b.width.toFixed(3)}, depth ${b.depth.toFixed(3)}, ${b.resolution}px, ${(b.params / 1e6).toFixed(2)}M params, ${(b.macs / 1e9).toFixed(3)} GMACs${b.latencyMs !== undefined ? `, p50 ${b.latencyMs.toFixed(1)} ms` : ''} (${result.candidates.length} candidates from ${result.triples} triples, ${result.pareto.length} on the Pareto front; ranked by ${result.rankedBy})`
              : 'no candidate fits the budget (not even B0)',
          );
          console.log(`reports: ${files.join(', ')}`);
        }
      } finally {
        bar?.stop();
        tmp?.remove();
      }
    });
}
