// Preloaded (node --import) into each test file's process by `run-tests.mjs --shuffle`: registers the
// file's top-level tests, and the tests of each describe(), in a seeded random order, so that a test
// which depends on one before it fails. Subtests made with t.test() keep their order (they are the
// steps of one test). Hooks (before/after/beforeEach/afterEach) are not reordered.
//
// How: node:test's CommonJS exports are wrapped and module.syncBuiltinESMExports() makes the
// `import { test } from 'node:test'` bindings see the wrappers. Calls are buffered while the file
// loads (top level) or while a describe() body runs, then replayed shuffled in the same place, so
// each test keeps the parent node:test gave it.
// Environment: BERTH_TEST_SHUFFLE_SEED (uint32), set by run-tests.mjs, which prints it.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { relative } from 'node:path';
import { setImmediate } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { shuffled, seedFor } from './test-order.mjs';

const require = createRequire(import.meta.url);
const nodeTest = require('node:test');
const seedText = process.env['BERTH_TEST_SHUFFLE_SEED'];
if (seedText === undefined || !/^\d+$/.test(seedText)) {
  throw new Error(`test-shuffle: BERTH_TEST_SHUFFLE_SEED must be an unsigned integer, got ${JSON.stringify(seedText)}`);
}
const suiteFunctions = new Set([nodeTest.describe, nodeTest.suite].filter((f) => typeof f === 'function'));
// Keyed by the file's path inside the clone, so a seed gives the same order from any clone.
const fileSeed = seedFor(Number(seedText), relative(fileURLToPath(new URL('..', import.meta.url)), process.argv[1] ?? ''));
let replays = 0; // one sub-seed per replayed group, in registration order: the same seed gives the same order

/** @type {{ original: Function, args: unknown[], settle: (p: Promise<unknown>) => void }[] | undefined} */
let buffer; // the group being collected; undefined = pass calls straight through
let topLevelOpen = true; // until the first macrotask after the file started loading

function replay(group) {
  const order = shuffled(group, seedFor(fileSeed, String(replays++)));
  for (const call of order) call.settle(call.original(...call.args));
}

function deferred(original) {
  const wrapped = function (...args) {
    if (buffer === undefined && topLevelOpen) {
      buffer = [];
      setImmediate(() => {
        topLevelOpen = false;
        const group = buffer ?? [];
        buffer = undefined;
        replay(group);
      });
    }
    if (buffer === undefined) return original(...args);
    let settle = () => undefined;
    const result = new Promise((res, rej) => {
      settle = (p) => Promise.resolve(p).then(res, rej);
    });
    buffer.push({ original, args: wrapSuiteBody(original, args), settle });
    return result;
  };
  for (const key of Object.keys(original)) wrapped[key] = original[key];
  return wrapped;
}

/** describe(name?, options?, fn): the body collects its own tests and replays them shuffled. */
function wrapSuiteBody(original, args) {
  if (!suiteFunctions.has(original)) return args;
  const at = args.findIndex((a) => typeof a === 'function');
  if (at < 0) return args;
  const body = args[at];
  const wrappedBody = function (...bodyArgs) {
    const outer = buffer;
    buffer = [];
    let result;
    try {
      result = body.apply(this, bodyArgs);
    } finally {
      const group = buffer;
      buffer = outer;
      replay(group);
    }
    return result;
  };
  return [...args.slice(0, at), wrappedBody, ...args.slice(at + 1)];
}

for (const name of ['test', 'it', 'describe', 'suite']) {
  if (typeof nodeTest[name] === 'function') nodeTest[name] = deferred(nodeTest[name]);
}
syncBuiltinESMExports();
