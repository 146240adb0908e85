#!/usr/bin/env bash
# Regenerates the trained-model fixtures (see test/fixtures/models/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
node bin/ultro.js train --plant double-integrator --seed 1 --out test/fixtures/models/double-integrator.json
node bin/ultro.js train --plant examples/two-carts.json --seed 1 --out test/fixtures/models/two-carts.json
