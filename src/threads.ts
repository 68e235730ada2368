// Starting a worker thread from one of berth's modules, compiled or from source. Compiled (dist/): the
// module's .js file. From source (tsx): Node 20 does not apply the parent's --import loader hooks to
// worker threads, so the thread registers tsx itself, then loads the .ts file.
import { Worker } from 'node:worker_threads';

/** The URL of module `name` (without extension) beside `base` (a caller's import.meta.url). */
export function siblingModule(base: string, name: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

export function startModuleWorker(entry: URL, workerData: unknown, name: string): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData, name });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData, name });
}
