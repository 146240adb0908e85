/** The package version, stamped into every generated file and report. */
export { ULTRO_VERSION as VERSION } from '../sim/index.js';
