// `berth check`: not built yet.

export async function runCheck(_argv: readonly string[]): Promise<number> {
  process.stderr.write('berth check: not implemented yet\n');
  return 1;
}
