// Entry of the `resnext` command: parses the arguments, runs one command and
// returns its exit code. Usage mistakes print one line and exit 2; failures
// of a run print the message (no stack unless RESNEXT_DEBUG=1) and exit 1.

import { HELP, parseCli, UsageError } from './args';
import { runInfo } from './info';
import { packageVersion } from './machine';
import { type Output, processOutput } from './output';

export async function main(argv: readonly string[], output?: Output): Promise<number> {
  let out = output ?? processOutput();
  try {
    const args = parseCli(argv);
    if (!output && 'quiet' in args) out = processOutput(args.quiet);
    switch (args.command) {
      case 'help':
        out.stdout(HELP[args.topic ?? 'main']);
        return 0;
      case 'version':
        out.stdout(packageVersion());
        return 0;
      case 'info':
        return runInfo(args, out);
      case 'verify': {
        const { runVerify } = await import('./verify');
        return await runVerify(args, out);
      }
      case 'convert': {
        const { runConvert } = await import('./convert');
        return runConvert(args, out);
      }
      case 'bench': {
        const { runBench } = await import('./bench');
        return await runBench(args, out);
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      out.stderr(`resnext: ${err.message}`);
      return 2;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    out.stderr(`resnext: ${e.message}`);
    if (process.env.RESNEXT_DEBUG === '1' && e.stack) out.stderr(e.stack);
    return 1;
  }
}
