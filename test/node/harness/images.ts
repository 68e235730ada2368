// The two images the real node runs, as docker-archive files for `ctr images import`:
//  - berth's own, built from the repository's Containerfile by `npm run image` (scripts/build-image.sh) on the
//    local debootstrap base (no registry here); buildah's layer cache makes a warm build take seconds;
//  - the pod sandbox ("pause") image: pause.c beside this file, compiled static, on an empty image, cached
//    outside the repository by the hash of its source.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOk } from './host.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');

export interface ImageArchive {
  /** The reference the kubelet names (what the archive's RepoTags say). */
  readonly ref: string;
  readonly archive: string;
}

function cacheDir(): string {
  const base = process.env['BERTH_IMAGE_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'berth', 'images');
  mkdirSync(base, { recursive: true });
  return base;
}

/** `npm run image -- --local-base` into `dir`/berth.tar; the image is tagged `ref`. */
export function buildBerthImage(dir: string, ref = 'localhost/berth:node-test'): ImageArchive {
  const archive = join(dir, 'berth-image.tar');
  runOk(join(repoRoot, 'scripts/build-image.sh'), ['--local-base', '--tag', ref, '--docker-archive', archive], { timeoutMs: 1_800_000 });
  if (!existsSync(archive)) throw new Error(`scripts/build-image.sh wrote no ${archive}`);
  return { ref, archive };
}

/** The pause image, built once per pause.c content. */
export function pauseImage(): ImageArchive {
  const src = join(here, 'pause.c');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const ref = `localhost/berth-pause:${hash}`;
  const archive = join(cacheDir(), `pause-${hash}.docker.tar`);
  if (existsSync(archive)) return { ref, archive };
  const work = join(cacheDir(), `pause-${hash}.build`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  let ctr = '';
  try {
    runOk('gcc', ['-static', '-Os', '-s', '-o', join(work, 'pause'), src]);
    ctr = runOk('buildah', ['from', 'scratch']).trim();
    runOk('buildah', ['copy', '--chmod', '0755', ctr, join(work, 'pause'), '/pause']);
    runOk('buildah', ['config', '--entrypoint', '["/pause"]', '--user', '65535:65535', ctr]);
    runOk('buildah', ['commit', '--quiet', ctr, ref]);
    runOk('buildah', ['push', '--quiet', ref, `docker-archive:${join(work, 'pause.tar')}:${ref}`]);
    renameSync(join(work, 'pause.tar'), archive);
  } finally {
    if (ctr !== '') runOk('buildah', ['rm', ctr]);
    rmSync(work, { recursive: true, force: true });
  }
  return { ref, archive };
}
