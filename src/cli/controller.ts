// `berth controller`: not built yet.

export async function runController(_argv: readonly string[]): Promise<number> {
  process.stderr.write('berth controller: not implemented yet\n');
  return 1;
}
