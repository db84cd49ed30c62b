import type { CliIO } from '../../src/cli/output.js';

/** A CLI IO that keeps what is written, for in-process CLI tests. */
export function memoryIO(cwd = process.cwd()): CliIO & { stdoutText(): string; stderrText(): string } {
  let stdout = '';
  let stderr = '';
  return {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: process.env,
    cwd,
    isTTY: false,
    stdoutText: () => stdout,
    stderrText: () => stderr,
  };
}
