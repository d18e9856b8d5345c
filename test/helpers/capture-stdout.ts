/**
 * Runs a CLI command in process and captures what it writes to stdout, with its exit code.
 */
export async function runCaptured(
  cmd: { run(argv: readonly string[]): Promise<number> },
  argv: readonly string[],
): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof write;
  try {
    return { code: await cmd.run(argv), stdout };
  } finally {
    process.stdout.write = write;
  }
}
