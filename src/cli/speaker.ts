// `berth speaker`: not built yet.

export async function runSpeaker(_argv: readonly string[]): Promise<number> {
  process.stderr.write('berth speaker: not implemented yet\n');
  return 1;
}
