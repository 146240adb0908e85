/** The package version, stamped into every generated file and report. */
import { readFileSync } from 'node:fs';
import { packageRoot } from './root.js';

export const VERSION: string = (JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as { version: string }).version;
