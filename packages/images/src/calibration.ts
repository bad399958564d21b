/**
 * Calibration images: N images spread across the classes of an ImageFolder (or every image of a
 * flat folder), decoded and preprocessed exactly as `eval` does, as batches for
 * @effnet/pipeline's calibrateActivations.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { IMAGE_EXTENSIONS, listImageFolder, spreadSubset, type Sample } from './dataset.js';
import { preprocessImage, type PreprocessOptions } from './preprocess.js';

/** One batch of preprocessed images, NCHW float32. */
export interface CalibrationBatch {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface CalibrationImagesOptions extends PreprocessOptions {
  /** Images to use (default 100), spread evenly over the listing (so across classes). */
  readonly count?: number;
  /** Images per batch (default 8). */
  readonly batch?: number;
}

export interface CalibrationImages {
  readonly batches: CalibrationBatch[];
  /** Images used, relative to the folder. */
  readonly files: readonly string[];
  /** Images listed but not decodable, with the reason. */
  readonly failed: readonly { readonly file: string; readonly error: string }[];
}

/** The calibration folder is missing, unreadable, empty, or none of its images decodes. */
export class CalibrationDataError extends Error {
  override name = 'CalibrationDataError';
}

function listCalibrationFolder(dir: string): Sample[] {
  if (!existsSync(dir)) throw new CalibrationDataError(`${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new CalibrationDataError(`${dir}: not a directory`);
  let listing;
  try {
    listing = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new CalibrationDataError(`${dir}: cannot read the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const entries = listing.filter((e) => !e.name.startsWith('.'));
  // ImageFolder when there are class folders; otherwise the images right in the folder.
  if (entries.some((e) => e.isDirectory())) {
    try {
      return [...listImageFolder(dir).samples];
    } catch (e) {
      if (!/no images/.test((e as Error).message)) throw e;
    }
  }
  const isImage = (n: string) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase());
  // Links count like files: one to an image is read through, a dangling one is listed and fails
  // to decode (reported with the other failures, never dropped without a word).
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isImage(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => ({ path: join(dir, name), key: name, label: 0 }));
}

/**
 * The calibration set as a stream: the images are chosen (spread across the listing) and checked
 * up front, but decoded and preprocessed batch by batch as `read()` is iterated, so one batch is
 * held at a time whatever the number of images (read it once per calibration pass). Images that
 * do not decode are skipped and recorded in `failed`; `files` lists the images used. Both are
 * complete once a first `read()` has run to its end; a read in which no image decodes throws
 * CalibrationDataError naming the folder.
 */
export interface CalibrationStream {
  /** The folder. */
  readonly dir: string;
  /** Images chosen (relative to the folder), before decoding. */
  readonly chosen: readonly string[];
  /** Images per batch. */
  readonly batch: number;
  /** Batches a read yields at most (for progress). */
  readonly batches: number;
  read(): AsyncIterable<CalibrationBatch>;
  /** Images used so far (complete after the first full read). */
  readonly files: readonly string[];
  /** Images that did not decode, with the reason (complete after the first full read). */
  readonly failed: readonly { readonly file: string; readonly error: string }[];
}

/** Lists and chooses the calibration images (fails with the folder's name when it has none); decodes nothing yet. */
export function openCalibrationImages(dir: string, o: CalibrationImagesOptions): CalibrationStream {
  const count = o.count ?? 100;
  const batch = o.batch ?? 8;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`calibration images ${count}: expected a positive integer`);
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`calibration batch ${batch}: expected a positive integer`);
  const listed = listCalibrationFolder(dir);
  if (listed.length === 0) throw new CalibrationDataError(`${dir}: no images (expected ${IMAGE_EXTENSIONS.join(' ')} files, in class folders or directly in it)`);
  const chosen = spreadSubset(listed, count);
  const per = 3 * o.resolution * o.resolution;
  const failed = new Map<string, string>();
  const used: string[] = [];
  let complete = false;
  async function* read(): AsyncGenerator<CalibrationBatch> {
    const first = !complete;
    let decoded = 0;
    for (let i = 0; i < chosen.length; i += batch) {
      const part = chosen.slice(i, i + batch).filter((s) => !failed.has(s.key));
      const settled = await Promise.allSettled(part.map((s) => preprocessImage(s.path, o)));
      const ok: { key: string; data: Float32Array }[] = [];
      settled.forEach((r, k) => {
        const s = part[k]!;
        if (r.status === 'fulfilled') ok.push({ key: s.key, data: r.value });
        else failed.set(s.key, String((r.reason as Error)?.message ?? r.reason));
      });
      if (ok.length === 0) continue;
      if (first) used.push(...ok.map((p) => p.key));
      decoded += ok.length;
      const data = new Float32Array(ok.length * per);
      ok.forEach((p, k) => data.set(p.data, k * per));
      yield { data, dims: [ok.length, 3, o.resolution, o.resolution] };
    }
    if (decoded === 0) throw new CalibrationDataError(`${dir}: none of the ${chosen.length} calibration images could be decoded (first: ${failed.values().next().value})`);
    complete = true;
  }
  return {
    dir,
    chosen: chosen.map((s) => s.key),
    batch,
    batches: Math.ceil(chosen.length / batch),
    read,
    get files() {
      return used;
    },
    get failed() {
      return [...failed].map(([file, error]) => ({ file, error }));
    },
  };
}

/** Loads the whole calibration set into memory (for small sets; {@link openCalibrationImages} streams it); fails with the folder's name when it has no image or none decodes. */
export async function loadCalibrationImages(dir: string, o: CalibrationImagesOptions): Promise<CalibrationImages> {
  const stream = openCalibrationImages(dir, o);
  const batches: CalibrationBatch[] = [];
  for await (const b of stream.read()) batches.push(b);
  return { batches, files: stream.files, failed: stream.failed };
}
