// `node --import tsx --import ./test/fuzz/coverage.mjs ...`: registers coverage-hooks.mjs so every
// module under src/ loads instrumented (see that file). Registered after tsx, so it runs first.
import { register } from 'node:module';

register('./coverage-hooks.mjs', import.meta.url);
