// Test-side handle of agent.ts: starts it inside a lab namespace and speaks its JSON-lines protocol.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab, LabTarget } from '../../../frr-lab/lab.ts';

export interface AgentEvent {
  readonly ev: string;
  readonly [k: string]: unknown;
}

export interface AgentError {
  readonly message: string;
  readonly kind?: string;
  readonly code?: string;
}

export class AgentCallError extends Error {
  readonly detail: AgentError;
  constructor(detail: AgentError) {
    super(detail.message);
    this.detail = detail;
  }
}

export interface Agent {
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  readonly events: AgentEvent[];
  waitEvent(pred: (e: AgentEvent) => boolean, timeoutMs?: number): Promise<AgentEvent>;
}

const agentPath = fileURLToPath(new URL('./agent.ts', import.meta.url));

export async function startAgent(lab: Lab, target: LabTarget): Promise<Agent> {
  const p = lab.spawn(target, [process.execPath, '--import', 'tsx', agentPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdin = p.child.stdin;
  const stdout = p.child.stdout;
  if (stdin === null || stdout === null) throw new Error('agent has no stdio');
  let stderr = '';
  p.child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const events: AgentEvent[] = [];
  const waiters = new Set<() => void>();
  let nextId = 1;
  let exited = false;
  createInterface({ input: stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as { id?: number; ok?: boolean; result?: unknown; error?: AgentError } & Partial<AgentEvent>;
    if (msg.id !== undefined) {
      const w = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.ok === true) w?.resolve(msg.result);
      else w?.reject(new AgentCallError(msg.error ?? { message: 'agent error' }));
      return;
    }
    events.push(msg as AgentEvent);
    for (const w of [...waiters]) w();
  });
  p.child.once('exit', () => {
    exited = true;
    for (const w of pending.values()) w.reject(new Error(`agent in ${lab.nsOf(target)} exited: ${stderr.trim()}`));
    pending.clear();
    for (const w of [...waiters]) w();
  });
  const agent: Agent = {
    events,
    call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
      if (exited) return Promise.reject(new Error(`agent exited: ${stderr.trim()}`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        stdin.write(JSON.stringify({ id, op, ...args }) + '\n');
      });
    },
    waitEvent(pred, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const e = events.find(pred);
          if (e !== undefined) {
            done();
            resolve(e);
          } else if (exited) {
            done();
            reject(new Error(`agent exited: ${stderr.trim()}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching agent event within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
  await agent.waitEvent((e) => e.ev === 'ready', 15_000);
  return agent;
}
