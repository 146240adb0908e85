/**
 * Opens an HTML file in Debian's headless Chromium (through playwright-core,
 * which drives a browser it did not download) and reports everything that
 * went wrong: page errors, console errors, failed requests, and any request
 * that leaves the file (the report must be self-contained).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export interface PageCheck {
  errors: string[];
  external: string[];
  title: string;
  svgCount: number;
  tables: number;
  text: string;
}

export async function openInChromium(file: string, screenshot?: string): Promise<PageCheck> {
  if (!CHROMIUM) throw new Error('chromium is not installed (apt-get install chromium)');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const external: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    page.on('request', (r) => r.url() !== url && !r.url().startsWith('data:') && external.push(r.url()));
    const res = await page.goto(url, { waitUntil: 'load' });
    if (!res || !res.ok()) errors.push(`load: ${res?.status() ?? 'no response'}`);
    const out: PageCheck = {
      errors,
      external,
      title: await page.title(),
      svgCount: await page.locator('svg').count(),
      tables: await page.locator('table').count(),
      text: await page.locator('body').innerText(),
    };
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return out;
  } finally {
    await browser.close();
  }
}
