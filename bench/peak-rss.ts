import { readFileSync } from 'node:fs';

/**
 * This program's peak RSS in KiB. Linux keeps getrusage's maxRSS across fork and exec, so it would
 * start at the size of the benchmark process that spawned this one; /proc's VmHWM is this program's own.
 */
export function peakRssKb(): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN) || process.resourceUsage().maxRSS;
  } catch {
    return process.resourceUsage().maxRSS;
  }
}
