/**
 * targets/: public surface (see README's folder map). Filled in by its issue;
 * nothing is exported until it works.
 */
export {};
