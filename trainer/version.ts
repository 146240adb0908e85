/**
 * The trainer's revision: raise it with every change that alters what a
 * training run produces (the same seed giving other weights). Model files
 * record it in their provenance, and the test suite refuses model fixtures
 * trained by another revision, so fixtures never go stale silently. The
 * suite also retrains a seconds-long fingerprint model and compares hashes,
 * which catches a change that forgot to raise it.
 */
export const TRAINER_REVISION = 18;
