/**
 * Weights from the local Hugging Face cache, where `hf download` / huggingface_hub leave them:
 * `hf:ORG/NAME[@REVISION]` → `CACHE/models--ORG--NAME/refs/REVISION` (default `main`) names a
 * commit → `snapshots/COMMIT/model.safetensors` (else `pytorch_model.bin`) and `config.json`, the
 * files being symlinks into `blobs/`. CACHE is `HF_HUB_CACHE`, else `HF_HOME/hub`, else
 * `XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`. Nothing is ever downloaded:
 * a repo missing from the cache is an error saying where effnet looked and how to fetch it.
 *
 * timm's `config.json` (`architecture`, `num_classes`, `pretrained_cfg`: input size, crop_pct,
 * crop_mode, interpolation, mean, std) is checked against the model id and becomes the exported
 * file's preprocessing metadata, so the file preprocesses as the checkpoint was trained.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, isAbsolute, sep } from 'node:path';
import { OptionError } from '@effnet/graph-builder';
import type { Preprocess } from '../family.js';
import { TIMM_HUB_NAMES } from './hub-names.js';

export class HubCacheError extends Error {
  override name = 'HubCacheError';
}

export interface HubWeights {
  /** The reference as given (`hf:timm/efficientnet_b0.ra_in1k`). */
  readonly ref: string;
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  /** The weights file (a path inside the snapshot; the blob behind it is inside the cache). */
  readonly weightsPath: string;
  readonly config: HubConfig | undefined;
}

/** What effnet takes from timm's config.json. */
export interface HubConfig {
  readonly architecture: string;
  readonly numClasses: number | undefined;
  /** [H, W] */
  readonly inputSize: readonly [number, number] | undefined;
  readonly preprocess: Preprocess | undefined;
}

const REPO_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const COMMIT = /^[0-9a-f]{40}$/;

export function isHubRef(s: string): boolean {
  return s.startsWith('hf:');
}

/** The cache folder huggingface_hub uses, from the environment. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'huggingface', 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

/** Parses `hf:ORG/NAME[@REVISION]`. */
export function parseHubRef(ref: string): { repo: string; revision: string } {
  const body = ref.slice(3);
  const [repo = '', revision = 'main', ...extra] = body.split('@');
  const parts = repo.split('/');
  const bad = (why: string): never => {
    throw new OptionError('weights', `--weights '${ref}': ${why}; expected hf:ORG/NAME[@REVISION], e.g. hf:timm/efficientnet_b0.ra_in1k`);
  };
  if (extra.length) bad("more than one '@'");
  if (parts.length !== 2) bad(`'${repo}' is not ORG/NAME`);
  for (const p of parts) if (!REPO_PART.test(p) || p.includes('..') || p.includes('--')) bad(`'${p}' is not a valid repository name part (letters, digits, '.', '_', '-'; no '..' or '--')`);
  if (!REVISION.test(revision) || revision.includes('..')) bad(`'${revision}' is not a valid revision`);
  return { repo, revision };
}

function inside(root: string, path: string): boolean {
  const r = relative(root, path);
  return r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r);
}

/** Finds `hf:ORG/NAME[@REVISION]` in the local cache; never downloads. */
export function resolveHubWeights(ref: string, env: NodeJS.ProcessEnv = process.env): HubWeights {
  const { repo, revision } = parseHubRef(ref);
  const cache = hubCacheDir(env);
  const folder = join(cache, `models--${repo.replace('/', '--')}`);
  const fetchHint = `fetch it on a machine with network access (\`hf download ${repo}\`, or \`huggingface-cli download ${repo}\`) and copy the cache folder here, or set HF_HUB_CACHE / HF_HOME to where it is`;
  if (!existsSync(folder)) {
    const searched = env.HF_HUB_CACHE ? `HF_HUB_CACHE=${cache}` : env.HF_HOME ? `HF_HOME/hub=${cache}` : cache;
    throw new HubCacheError(`${ref}: not in the local Hugging Face cache (looked for ${folder} in ${searched}); effnet never downloads: ${fetchHint}`);
  }
  const root = realpathSync(folder);
  let commit: string;
  if (COMMIT.test(revision)) commit = revision;
  else {
    const refFile = join(folder, 'refs', revision);
    if (!existsSync(refFile)) throw new HubCacheError(`${ref}: ${folder} has no refs/${revision} (revision '${revision}' was never downloaded); ${fetchHint}`);
    commit = readFileSync(refFile, 'utf8').trim();
    if (!COMMIT.test(commit)) throw new HubCacheError(`${ref}: ${refFile} does not hold a commit hash (40 hex digits)`);
  }
  const snapshot = join(folder, 'snapshots', commit);
  if (!existsSync(snapshot)) throw new HubCacheError(`${ref}: ${folder} has no snapshot ${commit} (an interrupted download?); ${fetchHint}`);
  /** A snapshot file, checked to resolve to a regular file inside the repo's cache folder. */
  const file = (name: string): string | undefined => {
    const p = join(snapshot, name);
    if (!existsSync(p)) return undefined;
    const real = realpathSync(p);
    if (!inside(root, real)) throw new HubCacheError(`${ref}: ${p} points outside the cache folder ${root} (to ${real}); refusing to read it`);
    if (!statSync(real).isFile()) throw new HubCacheError(`${ref}: ${p} is not a regular file`);
    return p;
  };
  const weightsPath = file('model.safetensors') ?? file('pytorch_model.bin');
  if (!weightsPath) throw new HubCacheError(`${ref}: snapshot ${snapshot} has neither model.safetensors nor pytorch_model.bin; ${fetchHint}`);
  const configPath = file('config.json');
  const config = configPath === undefined ? undefined : readHubConfig(ref, configPath);
  return { ref, repo, revision, commit, weightsPath, config };
}

function readHubConfig(ref: string, path: string): HubConfig {
  const bad = (why: string): never => {
    throw new HubCacheError(`${ref}: ${path}: ${why}`);
  };
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    if (text.length > 1 << 20) bad('larger than 1 MiB, not a timm config.json');
    raw = JSON.parse(text);
  } catch (e) {
    if (e instanceof HubCacheError) throw e;
    bad(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not a JSON object');
  const c = raw as Record<string, unknown>;
  const architecture = c.architecture;
  if (typeof architecture !== 'string') return bad("no 'architecture' (not a timm model config)");
  const numClasses = c.num_classes;
  if (numClasses !== undefined && !(Number.isInteger(numClasses) && (numClasses as number) >= 1)) bad(`num_classes ${JSON.stringify(numClasses)} is not a positive integer`);
  const cfg = c.pretrained_cfg;
  if (cfg === undefined) return { architecture, numClasses: numClasses as number | undefined, inputSize: undefined, preprocess: undefined };
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) return bad('pretrained_cfg is not an object');
  const p = cfg as Record<string, unknown>;
  const triple = (k: string): readonly number[] => {
    const v = p[k];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) return bad(`pretrained_cfg.${k} ${JSON.stringify(v)} is not three numbers`);
    return v as number[];
  };
  const size = triple('input_size');
  if (size[0] !== 3 || !size.every((x) => Number.isInteger(x) && x >= 1)) bad(`pretrained_cfg.input_size ${JSON.stringify(size)} is not [3, H, W]`);
  const mean = triple('mean');
  const std = triple('std');
  if (!std.every((x) => x > 0)) bad(`pretrained_cfg.std ${JSON.stringify(std)} must be positive`);
  const cropPct = p.crop_pct ?? 0.875;
  if (typeof cropPct !== 'number' || !(cropPct > 0 && cropPct <= 1)) bad(`pretrained_cfg.crop_pct ${JSON.stringify(cropPct)} is not in (0, 1]`);
  const cropMode = p.crop_mode ?? 'center';
  if (cropMode !== 'center') bad(`pretrained_cfg.crop_mode '${String(cropMode)}': effnet's eval transform is timm's 'center' crop only`);
  const interpolation = p.interpolation ?? 'bilinear';
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear') bad(`pretrained_cfg.interpolation '${String(interpolation)}' (effnet resizes with bicubic or bilinear)`);
  return {
    architecture,
    numClasses: numClasses as number | undefined,
    inputSize: [size[1]!, size[2]!],
    preprocess: { mean, std, cropPct: cropPct as number, interpolation: interpolation as 'bicubic' | 'bilinear' },
  };
}

/** timm's architecture name of a model id (`tf-efficientnet-b3` → `tf_efficientnet_b3`). */
export function timmArchitecture(id: string): string {
  return id.replace(/-/g, '_');
}

/** The timm Hub weights that fit a model id (timm 1.0.29's list), as `hf:` references. */
export function hubNamesFor(id: string): readonly string[] {
  return (TIMM_HUB_NAMES[timmArchitecture(id)] ?? []).map((n) => `hf:${n}`);
}
