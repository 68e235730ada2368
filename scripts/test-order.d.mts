// Types of scripts/test-order.mjs for the TypeScript that imports it (bench/chaos/chaos.ts).
export function random(seed: number): () => number;
export function shuffled<T>(items: readonly T[], seed: number): T[];
