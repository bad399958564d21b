/**
 * Headless Chromium for onnxruntime-web, driven by playwright-core with the system browser
 * (Debian's `chromium`, never a downloaded one).
 *
 * WebGPU: `--enable-unsafe-webgpu` makes headless Chromium expose WebGPU; on a machine without a
 * GPU the adapter is SwiftShader's CPU fallback (Vulkan in software), with a GPU it is the GPU.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { CHROMIUM_HELP, ChromiumUnavailableError } from '../errors.js';

/** The browser effnet drives: $EFFNET_CHROMIUM, else Debian's chromium. */
export function chromiumPath(): string {
  return process.env['EFFNET_CHROMIUM'] || '/usr/bin/chromium';
}

/**
 * Flags for a quiet, offline headless Chromium; `webgpu` adds --enable-unsafe-webgpu (the WebGPU
 * API in headless mode and on Linux, where it is not yet on by default; SwiftShader's fallback
 * adapter when there is no GPU).
 */
export function chromiumArgs(o: { webgpu: boolean }): string[] {
  return [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-dev-shm-usage',
    ...(o.webgpu ? ['--enable-unsafe-webgpu'] : []),
  ];
}

export async function launchChromium(o: { webgpu: boolean; headless?: boolean }): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) throw new ChromiumUnavailableError(`no Chromium at ${executablePath}: ${CHROMIUM_HELP}`);
  const { chromium } = await import('playwright-core');
  try {
    return await chromium.launch({ executablePath, headless: o.headless ?? true, args: chromiumArgs(o) });
  } catch (e) {
    throw new ChromiumUnavailableError(`${executablePath}: Chromium did not start: ${(e as Error).message.split('\n')[0]}`);
  }
}
