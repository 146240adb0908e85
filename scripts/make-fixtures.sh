#!/usr/bin/env bash
# Regenerates the trained-model fixtures (see test/fixtures/models/README.md).
# Raise TRAINER_REVISION (trainer/version.ts) first when the trainer's results changed.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
F=test/fixtures/models
# the fingerprint: a seconds-long training through every phase; test/trainer/fixtures.test.ts retrains it
node bin/ultro.js train $(node -e "console.log(require('./test/fixtures/models/fingerprint.args.json').join(' '))") --out $F/fingerprint.json
node bin/ultro.js train --plant double-integrator --seed 1 --threads 1 --out $F/double-integrator.json
node bin/ultro.js train --plant examples/two-carts.json --seed 1 --threads 1 --out $F/two-carts.json
