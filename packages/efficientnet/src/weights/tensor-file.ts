/**
 * A weights file of any format effnet reads, behind one interface: safetensors (timm, Hugging Face)
 * or a PyTorch checkpoint written by torch.save (.pth/.pt/.bin, zip or pre-1.6 format). The format
 * is told by the file's first bytes, not its name.
 */
import { fileSource, READABLE_DTYPES, Safetensors } from './safetensors.js';
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

/** The first `n` bytes of a weights file (never blocks on a FIFO; refuses what is no regular file). */
function head(path: string, n: number): Uint8Array {
  const src = fileSource(path);
  const out = new Uint8Array(Math.min(n, src.size));
  src.read(out, 0);
  return out;
}

/** The one TensorFile shape over either reader. */
function tensorFile(path: string, format: TensorFile['format'], r: Pick<TensorFile, 'names' | 'info' | 'readFloat32' | 'metadata'>, floatDtypes: readonly string[], under: string): TensorFile {
  return {
    label: path,
    format,
    names: r.names,
    info: (name) => r.info(name),
    readFloat32: (name) => r.readFloat32(name),
    floatDtypes,
    metadata: r.metadata,
    under,
  };
}

/** Opens a weights file: safetensors, or a torch.save checkpoint (told apart by content). */
export function openTensorFile(path: string): TensorFile {
  // safetensors: an 8-byte header length, then the JSON header's '{' (a length can start 0x80 0x02
  // like a pickle does, so '{' decides).
  const first = head(path, 9);
  if (first[8] !== 0x7b && TorchCheckpoint.sniff(first)) {
    const t = TorchCheckpoint.open(path);
    return tensorFile(path, 'torch', t, TORCH_FLOAT_DTYPES, t.under);
  }
  return tensorFile(path, 'safetensors', Safetensors.open(path), READABLE_DTYPES, '');
}
