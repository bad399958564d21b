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
  return entries
    .filter((e) => e.isFile() && isImage(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => ({ path: join(dir, name), key: name, label: 0 }));
}

/** Loads the calibration set; fails with the folder's name when it has no image or none decodes. */
export async function loadCalibrationImages(dir: string, o: CalibrationImagesOptions): Promise<CalibrationImages> {
  const count = o.count ?? 100;
  const batch = o.batch ?? 8;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`calibration images ${count}: expected a positive integer`);
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`calibration batch ${batch}: expected a positive integer`);
  const listed = listCalibrationFolder(dir);
  if (listed.length === 0) throw new CalibrationDataError(`${dir}: no images (expected ${IMAGE_EXTENSIONS.join(' ')} files, in class folders or directly in it)`);
  const chosen = spreadSubset(listed, count);
  const settled = await Promise.allSettled(chosen.map((s) => preprocessImage(s.path, o)));
  const per = 3 * o.resolution * o.resolution;
  const ok: { key: string; data: Float32Array }[] = [];
  const failed: { file: string; error: string }[] = [];
  settled.forEach((r, i) => {
    const s = chosen[i]!;
    if (r.status === 'fulfilled') ok.push({ key: s.key, data: r.value });
    else failed.push({ file: s.key, error: String((r.reason as Error)?.message ?? r.reason) });
  });
  if (ok.length === 0) throw new CalibrationDataError(`${dir}: none of the ${chosen.length} calibration images could be decoded (first: ${failed[0]!.error})`);
  const batches: CalibrationBatch[] = [];
  for (let i = 0; i < ok.length; i += batch) {
    const part = ok.slice(i, i + batch);
    const data = new Float32Array(part.length * per);
    part.forEach((p, k) => data.set(p.data, k * per));
    batches.push({ data, dims: [part.length, 3, o.resolution, o.resolution] });
  }
  return { batches, files: ok.map((p) => p.key), failed };
}
