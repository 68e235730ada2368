// The one command-line tokenizer of the `berth` subcommands: `--flag value` and `--flag=value`.

export interface FlagToken {
  /** The argument as typed. */
  readonly arg: string;
  /** `--flag` of `--flag=value`, else the whole argument. */
  readonly flag: string;
  /** The flag's value: the inline `=value`, else the next argument (consumed); undefined at the end. */
  readonly value: () => string | undefined;
}

export function* flagTokens(argv: readonly string[]): Generator<FlagToken> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const flag = inline !== undefined ? arg.slice(0, eq) : arg;
    yield {
      arg,
      flag,
      value: () => {
        if (inline !== undefined) return inline;
        i++;
        return argv[i];
      },
    };
  }
}

/** Default of `berth speaker --l2-threads`: one ARP/NDP answer thread per CPU, at most this many. */
export { DEFAULT_MAX_ANSWER_THREADS as DEFAULT_L2_THREADS } from '../l2/cpu-answerers.ts';
