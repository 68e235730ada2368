// The `berth` command: dispatches to the subcommands. Each subcommand returns its exit code:
// 0 success, 1 failure or invalid input found, 2 bad usage.

export const USAGE = `usage: berth <command> [options]

commands:
  check --manifests PATH [--output table|json]
      compile manifests, allocate IPs, show each Service's IPs, pool and modes, and every problem
  speaker --node NAME --manifests PATH
      run this node's speaker from YAML manifests (no Kubernetes)
  speaker --node-name NAME
      run this node's speaker against the Kubernetes API server
  controller
      run the controller against the Kubernetes API server
`;

type Command = (argv: readonly string[]) => Promise<number>;

const commands: Readonly<Record<string, () => Promise<Command>>> = {
  check: async () => (await import('./check.ts')).runCheck,
  speaker: async () => (await import('./speaker.ts')).runSpeaker,
  controller: async () => (await import('./controller.ts')).runController,
};

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`berth: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const run = await load();
  return run(rest);
}
