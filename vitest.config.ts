import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@effnet/graph-builder': src('graph-builder'),
      '@effnet/onnx-export': src('onnx-export'),
      '@effnet/efficientnet': src('efficientnet'),
      '@effnet/safe-fs': src('safe-fs'),
      '@effnet/pipeline': src('pipeline'),
      '@effnet/preprocess': src('preprocess'),
      '@effnet/images': src('images'),
      '@effnet/bench': src('bench'),
      '@effnet/runtime': src('runtime'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // 2-core machines: ORT sessions are multi-threaded already.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
