/**
 * effnet serve: the browser demo (packages/web) on localhost with a chosen model — built from an
 * id (with --weights etc.) or an .onnx file — its preprocessing and class names.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { constants } from 'node:os';
import { isLoopbackHost, startServer } from '@effnet/runtime';
import type { FileModel } from '@effnet/pipeline';
import { readLabels } from '@effnet/images';
import { displayLabel, imagenetClasses, metadataOutputs, noClassesMessage } from '@effnet/preprocess';
import { UsageError } from '../errors.js';
import { safeText } from '../text.js';
import { intInRange } from '../parse.js';
import { addModelOptions, type ModelFlags } from './common.js';
import { addPreprocessOptions, openForImages, type PreprocessFlags } from './image-flags.js';

interface ServeFlags extends ModelFlags, PreprocessFlags {
  labels?: string;
  port?: number;
  host?: string;
}

/**
 * The built demo page: shipped inside this package (dist/web, copied from packages/web/dist at
 * build time), or packages/web/dist when running from the repository's sources.
 */
export function demoDir(): string {
  const shipped = fileURLToPath(new URL('../web', import.meta.url));
  if (existsSync(join(shipped, 'index.html'))) return shipped;
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve('@effnet/web/package.json')), 'dist');
  } catch {
    throw new Error(`${shipped}/index.html: the browser demo is missing from this installation (reinstall effnet)`);
  }
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`${dir}/index.html: the browser demo is not built (run \`npm run build\`)`);
  return dir;
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('the browser demo on localhost: pick an image, see top-5, the execution provider (WebGPU or wasm) and latency')
    .argument('<model>', "model id (see 'effnet list') or an .onnx file")
    .option('--labels <spec>', "class names: 'imagenet', a JSON list, a text file or an ImageFolder directory (default: imagenet for 1000-class models)")
    .option('--port <N>', 'port, 0..65535 (0 picks a free one)', intInRange('--port', 0, 65535), 5173)
    .option('--host <addr>', 'address to listen on (WebGPU needs localhost or https)', '127.0.0.1');
  addModelOptions(cmd, { batch: false });
  addPreprocessOptions(cmd);
  // --ep / --threads come with the preprocessing flags; in the page the EP is chosen in the browser.
  for (const name of ['--ep', '--threads']) {
    const o = cmd.options.find((x) => x.long === name);
    if (o) o.hideHelp();
  }
  cmd.addHelpText(
    'after',
    `
The page runs the model with onnxruntime-web: WebGPU when the browser offers an adapter (Chrome/Edge
with a GPU need no flags), wasm otherwise (with a notice); ?ep=webgpu|wasm forces one.
Headless Chromium without a GPU: chromium --headless --enable-unsafe-webgpu (SwiftShader adapter).

Examples:
  effnet serve efficientnet-b0
  effnet serve efficientnet-b0 --weights imagenette.safetensors --labels ../shared/imagenette/val --resolution 160
  effnet serve model.onnx --port 8080`,
  );
  cmd.action(async (ref: string, f: ServeFlags) => {
    const root = demoDir();
    const { model, preprocess } = openForImages(ref, f);
    let labels: string[] | null = null;
    const outputs = metadataOutputs(model.metadata, model.label);
    if (f.labels && outputs.kind === 'none') throw new UsageError(`--labels ${f.labels}: ${noClassesMessage(model.label, outputs)}; leave --labels out`);
    if (f.labels) labels = readLabels(f.labels);
    else if (model.numClasses === 1000) labels = imagenetClasses().map((c) => c.wnid);
    if (labels && labels.length !== model.numClasses) throw new UsageError(`--labels ${f.labels ?? 'imagenet'}: ${labels.length} labels but ${model.label} has ${model.numClasses} classes`);
    // The page loads one file (onnxruntime-web needs external data passed to it explicitly).
    const external = model.kind === 'file' && 'loaded' in model ? (model as FileModel).loaded.externalData : [];
    if (external.length)
      throw new Error(`${ref}: its weights are in external data (${external.map((p) => basename(p)).join(', ')}), which the browser demo does not load: export the model without --external-data`);
    const source = model.source();
    const bytes = typeof source === 'string' ? new Uint8Array(await readFile(source)) : source;
    const name = model.kind === 'file' ? basename(ref) : `${model.label}.onnx`;
    const config = {
      model: { name, url: './model.onnx', bytes: bytes.byteLength },
      numClasses: model.numClasses,
      preprocess,
      labels: labels ? labels.map(displayLabel) : null,
    };
    const server = await startServer({
      mounts: { '/': root },
      routes: new Map([
        ['/model.onnx', { body: bytes, type: 'application/octet-stream' }],
        ['/effnet-config.json', { body: JSON.stringify(config), type: 'application/json' }],
      ]),
      port: f.port ?? 5173,
      host: f.host ?? '127.0.0.1',
    });
    const host = f.host ?? '127.0.0.1';
    if (!isLoopbackHost(host)) process.stderr.write(`effnet: warning: listening on ${host}: the page and the model are reachable from the network, over plain http\n`);
    process.stdout.write(
      `effnet demo: ${server.url} — ${safeText(model.label)}, ${preprocess.resolution}×${preprocess.resolution}, ${model.numClasses ? `${model.numClasses} classes` : 'no classes (backbone / embedding)'} (Ctrl-C to stop)\n`,
    );
    // Runs until Ctrl-C or SIGTERM; then closes the server and ends by that signal (exit status
    // 130 / 143 as the shell reports it), as a program without handlers would.
    const sig = await new Promise<NodeJS.Signals>((resolve) => {
      const stop = (s: NodeJS.Signals) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(() => resolve(s));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    process.kill(process.pid, sig);
    process.exit(128 + (constants.signals[sig] ?? 0)); // only if the signal did not end the process
  });
}
