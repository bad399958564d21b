/**
 * A weights file of any format effnet reads, behind one interface: safetensors (timm, Hugging Face)
 * or a PyTorch checkpoint written by torch.save (.pth/.pt/.bin, zip or pre-1.6 format). The format
 * is told by the file's first bytes, not its name.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { READABLE_DTYPES, Safetensors, SafetensorsError } from './safetensors.js';
import { TORCH_FLOAT_DTYPES, TorchCheckpoint } from './torch.js';

export interface TensorFile {
  readonly label: string;
  readonly format: 'safetensors' | 'torch';
  /** Tensor names (state_dict keys). */
  readonly names: readonly string[];
  info(name: string): { readonly dtype: string; readonly shape: readonly number[] } | undefined;
  /** A floating-point tensor as float32. */
  readFloat32(name: string): Float32Array;
  /** The dtypes readFloat32 takes (safetensors names: F32, F16, ...). */
  readonly floatDtypes: readonly string[];
  /** String metadata (safetensors `__metadata__`; none for torch files). */
  readonly metadata: ReadonlyMap<string, string>;
  /** Where the weights sat in the file: '' or a training checkpoint's key ('state_dict', 'model', ...). */
  readonly under: string;
}

/** The first bytes of a regular file (never blocks on a FIFO; refuses what is no regular file). */
function head(path: string, n: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new SafetensorsError(`${path}: cannot open weights file (${why})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SafetensorsError(`${path}: weights file is ${st.isFIFO() ? 'a FIFO (named pipe)' : st.isDirectory() ? 'a directory' : 'not a regular file'}, expected a regular file`);
    const out = new Uint8Array(Math.min(n, st.size));
    readSync(fd, out, 0, out.length, 0);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Opens a weights file: safetensors, or a torch.save checkpoint (told apart by content). */
export function openTensorFile(path: string): TensorFile {
  // safetensors: an 8-byte header length, then the JSON header's '{' (a length can start 0x80 0x02
  // like a pickle does, so '{' decides).
  const first = head(path, 9);
  if (first[8] !== 0x7b && TorchCheckpoint.sniff(first)) {
    const t = TorchCheckpoint.open(path);
    return {
      label: path,
      format: 'torch',
      names: t.names,
      info: (name) => t.info(name),
      readFloat32: (name) => t.readFloat32(name),
      floatDtypes: TORCH_FLOAT_DTYPES,
      metadata: t.metadata,
      under: t.under,
    };
  }
  const s = Safetensors.open(path);
  return {
    label: path,
    format: 'safetensors',
    names: s.names,
    info: (name) => s.info(name),
    readFloat32: (name) => s.readFloat32(name),
    floatDtypes: READABLE_DTYPES,
    metadata: s.metadata,
    under: '',
  };
}
