// Types of scripts/build-dist.mjs for the TypeScript that imports it (bench/bgp/run.ts).
export function sourceStamp(dir?: string): { newest: number; files: number };
export function distIsFresh(): boolean;
