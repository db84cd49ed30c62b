import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { processIsAlive } from '../files/files.js';

export const LOCK_NAME = '.imagegen.lock';

type Owner = { pid: number; hostname: string; startedAt: string; token?: string };

/** Another run holds the output folder: nothing was sent. */
export class OutputFolderLockedError extends Error {
  override name = 'OutputFolderLockedError';
  readonly folder: string;
  readonly owner: Owner | undefined;

  constructor({ folder, owner }: { folder: string; owner: Owner | undefined }) {
    const who = owner === undefined ? 'another imagegen run' : `another imagegen run (pid ${owner.pid} on ${owner.hostname}, since ${owner.startedAt})`;
    super(`${who} is writing to ${folder}; nothing was sent. Wait for it to finish, or use another --out.`);
    this.folder = folder;
    this.owner = owner;
  }
}

/**
 * Takes the output folder for one run. The lock is `proper-lockfile`'s (an atomic `mkdir`, its
 * mtime refreshed while the run lives, so a lock left by a dead process on any machine goes stale
 * after `staleMs`); inside it an owner file names the process, so a lock left on this machine by a
 * process that no longer runs (kill -9) is taken over at once rather than after the stale time.
 * Returns the release function, with `held()` to check the lock is still this run's;
 * `onCompromised` is called if proper-lockfile finds the lock lost while held.
 */
export async function lockOutputFolder({
  folder,
  onCompromised,
  staleMs = 10_000,
}: {
  folder: string;
  onCompromised: (error: Error) => void;
  staleMs?: number;
}): Promise<(() => Promise<void>) & { held(): Promise<boolean> }> {
  const lockPath = path.join(folder, LOCK_NAME);
  const ownerPath = path.join(lockPath, 'owner.json');
  const attempt = () => lockfile.lock(folder, { lockfilePath: lockPath, realpath: false, stale: staleMs, onCompromised });
  let release: () => Promise<void>;
  try {
    release = await attempt();
  } catch (error) {
    // ENOTEMPTY: proper-lockfile found the lock stale (its owner stopped refreshing it) and could not
    // rmdir it, as the owner file is inside: the same takeover as for a lock it calls held.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ELOCKED' && code !== 'ENOTEMPTY') throw error;
    const owner = await readOwner(ownerPath);
    const stale = code === 'ENOTEMPTY' && (owner === undefined || owner.hostname !== hostname());
    if (!stale && (owner === undefined || owner.hostname !== hostname() || processIsAlive(owner.pid))) {
      throw new OutputFolderLockedError({ folder, owner });
    }
    await rm(lockPath, { recursive: true, force: true });
    try {
      release = await attempt();
    } catch (retryError) {
      if (!['ELOCKED', 'ENOTEMPTY'].includes((retryError as NodeJS.ErrnoException).code ?? '')) throw retryError;
      throw new OutputFolderLockedError({ folder, owner: await readOwner(ownerPath) });
    }
  }
  const owner: Owner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), token: randomUUID() };
  // A new file changes the lock folder's mtime, which proper-lockfile reads as the lock taken by
  // someone else: the mtime it set is put back.
  const { atime, mtime } = await stat(lockPath);
  await writeFile(ownerPath, JSON.stringify(owner));
  await utimes(lockPath, atime, mtime);
  // proper-lockfile removes the lock with rmdir, which needs the folder empty.
  const releaseOwned = async () => {
    await rm(ownerPath, { force: true });
    await release();
  };
  return Object.assign(releaseOwned, {
    /**
     * Whether the lock is still this run's, read from disk now: proper-lockfile notices a deleted
     * lock only at its next refresh (seconds later), while another run may already have taken it.
     * Checked before each paid request, so none is sent into a folder another run writes to.
     */
    async held(): Promise<boolean> {
      const current = await readOwner(ownerPath);
      return current?.token === owner.token;
    },
  });
}

async function readOwner(ownerPath: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(ownerPath, 'utf8')) as Owner;
    return owner !== null && Number.isInteger(owner.pid) && typeof owner.hostname === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}
