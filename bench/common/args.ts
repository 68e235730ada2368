// The benchmarks' command lines: `--name value` pairs and bare `--flag`s.

/** The value after `--name`, if the flag is there. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
