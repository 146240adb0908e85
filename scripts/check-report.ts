/**
 * Open a HIL report in Debian's headless Chromium and report errors; optionally save a screenshot.
 *   node scripts/run-ts.mjs scripts/check-report.ts ultro-demo/hil/report.html [shot.png]
 */
import { openInChromium } from '../test/helpers/browser.js';

const [file, shot] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/run-ts.mjs scripts/check-report.ts <report.html> [screenshot.png]');
  process.exit(2);
}
const r = await openInChromium(file, shot);
console.log(`${file}: title "${r.title}", ${r.svgCount} SVG figures, ${r.tables} table(s)`);
console.log(`errors: ${r.errors.length ? r.errors.join('; ') : 'none'}; external requests: ${r.external.length ? r.external.join(', ') : 'none'}`);
if (shot) console.log(`screenshot: ${shot}`);
process.exit(r.errors.length || r.external.length ? 1 : 0);
