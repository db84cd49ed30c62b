import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Whether this machine lets the tests mount a small tmpfs (root, and a kernel and sandbox that
 * allow it), and why not when it does not: disk-full and read-only tests skip with that reason.
 */
export const tmpfsSupport: { available: boolean; reason: string } = (() => {
  const probe = mkdtempSync(path.join(tmpdir(), 'imagegen-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return { available: true, reason: '' };
  } catch (error) {
    const detail = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
    return { available: false, reason: `cannot mount a tmpfs here (${detail || 'mount failed'}); needs root and a sandbox that allows mount` };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** Mounts a tmpfs of `size` (e.g. "2m") on a new folder; `readOnly` remounts it read-only. */
export function mountTmpfs({ size, readOnly = false }: { size: string; readOnly?: boolean }): { dir: string; remount: (options: string) => void; unmount: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegen-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  const remount = (options: string) => execFileSync('mount', ['-o', `remount,${options}`, dir]);
  if (readOnly) remount('ro');
  return {
    dir,
    remount,
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
