/** int8 flags shared by export and bench: --int8 / --calibration-data / --calibration-images / --calibration-method / --int8-policy. */
import { existsSync, statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { QUANTIZE_POLICIES, QuantizeError, type QuantizePolicy } from '@effnet/graph-builder';
import { CalibrationDataError } from '@effnet/images';
import {
  CALIBRATION_METHODS,
  DEFAULT_CALIBRATION_IMAGES,
  DEFAULT_CALIBRATION_METHOD,
  Int8OptionError,
  PASSES,
  prepareInt8Model,
  type CalibrationMethod,
  type Int8Model,
  type Int8Options,
  type PrepareOptions,
} from '@effnet/pipeline';
import { UsageError } from '../errors.js';
import { choice, intInRange } from '../parse.js';
import { addPassOption } from './common.js';

/** Most calibration images: ranges settle well below this (phase 1: 100 images); more only costs time and memory. */
export const MAX_CALIBRATION_IMAGES = 5000;
/** --calibration-data value asking for latency-only calibration on the built-in input. */
export const BUILTIN = 'builtin';

export interface Int8Flags {
  int8?: boolean;
  calibrationData?: string;
  calibrationImages?: number;
  calibrationMethod?: CalibrationMethod;
  int8Policy?: QuantizePolicy;
  fp16?: boolean;
  fp16Io?: boolean;
}

export function addInt8Options(cmd: Command, o: { withInt8Flag?: boolean } = {}): Command {
  if (o.withInt8Flag !== false)
    addPassOption(
      cmd,
      PASSES.find((r) => r.stage === 'quantize')!,
    );
  return cmd
    .option(
      '--calibration-data <dir|builtin>',
      `int8: images to calibrate activation ranges on (ImageFolder or a flat folder, read like 'eval'); '${BUILTIN}': the built-in input, for latency measurements only (accuracy meaningless)`,
    )
    .option(
      '--calibration-images <N>',
      `int8: calibration images, spread across the classes (1..${MAX_CALIBRATION_IMAGES}, default ${DEFAULT_CALIBRATION_IMAGES})`,
      intInRange('--calibration-images', 1, MAX_CALIBRATION_IMAGES),
    )
    .addOption(
      new Option(
        '--calibration-method <m>',
        `int8: activation range method, one of ${CALIBRATION_METHODS.join(', ')} (default ${DEFAULT_CALIBRATION_METHOD}: best Imagenette B0 accuracy and agreement)`,
      ).argParser(choice('--calibration-method', CALIBRATION_METHODS)),
    )
    .addOption(
      new Option('--int8-policy <p>', `int8: which ops run in int8, one of ${QUANTIZE_POLICIES.join(', ')} (default all: fastest in onnxruntime; see README 'int8')`).argParser(
        choice('--int8-policy', QUANTIZE_POLICIES),
      ),
    );
}

/**
 * The int8 options the flags mean, or undefined without int8. `wanted`: int8 asked for (export
 * --int8, or int8 among bench --precision). `latencyDefault`: without --calibration-data, calibrate
 * on the built-in input (bench) instead of a usage error (export).
 */
export function int8Options(f: Int8Flags, wanted: boolean, o: { latencyDefault?: boolean; hint?: string } = {}): Int8Options | undefined {
  const given = (['calibrationData', 'calibrationImages', 'calibrationMethod', 'int8Policy'] as const).filter((k) => f[k] !== undefined);
  if (!wanted) {
    if (given.length) throw new UsageError(`--${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to int8 only: ${o.hint ?? 'add --int8'}`);
    return undefined;
  }
  let data = f.calibrationData;
  if (data === undefined) {
    if (!o.latencyDefault)
      throw new UsageError(
        `--int8 needs --calibration-data <dir>: a folder of images like the ones the model will see (e.g. ~100 validation images); or --calibration-data ${BUILTIN} for a latency-only file (accuracy meaningless)`,
      );
    data = BUILTIN;
  }
  if (data === BUILTIN && f.calibrationData === BUILTIN && existsSync(BUILTIN) && statSync(BUILTIN).isDirectory())
    console.error(`warning: --calibration-data ${BUILTIN} is the built-in input (latency only), not the folder ./${BUILTIN}; for the folder give ./${BUILTIN}`);
  if (data === BUILTIN && f.calibrationImages !== undefined)
    throw new UsageError(`--calibration-images: the built-in input has a fixed size; give --calibration-data <dir> to choose a number of images`);
  return {
    calibration: data === BUILTIN ? { kind: 'builtin' } : { kind: 'images', dir: data, ...(f.calibrationImages !== undefined ? { count: f.calibrationImages } : {}) },
    ...(f.calibrationMethod ? { method: f.calibrationMethod } : {}),
    ...(f.int8Policy ? { policy: f.int8Policy } : {}),
  };
}

/** prepareInt8Model with the library's input errors as one-line usage errors naming the flag. */
export async function buildInt8(ref: string, prepare: PrepareOptions, int8: Int8Options): Promise<Int8Model> {
  try {
    return await prepareInt8Model(ref, { ...prepare, int8 });
  } catch (e) {
    if (e instanceof CalibrationDataError) throw new UsageError(`--calibration-data ${e.message}`);
    if (e instanceof QuantizeError) throw new UsageError(`--int8: ${ref}: ${e.message.replace(/^quantize: /, '')}`);
    if (e instanceof Int8OptionError) throw new UsageError(`--int8: ${e.message}`);
    throw e;
  }
}
