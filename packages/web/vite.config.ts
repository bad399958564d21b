import { defaultClientConditions, defineConfig } from 'vite';

// Relative asset URLs: the built page works from any path (effnet serve, a static host, file copies).
export default defineConfig({
  base: './',
  // onnxruntime-web without the wasm glue inlined: with it inlined, its worker threads would load the
  // page's own bundle (DOM code) as their script.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  build: { outDir: 'dist', target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 2048 },
  // onnxruntime-web finds its .wasm next to its module; pre-bundling would move it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
  preview: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
});
