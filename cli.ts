#!/usr/bin/env node
// qinling-jobs: one CLI for every part of the product (api, operator, invoke come with their issues).
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const usage = `Usage: qinling-jobs <command> [options]

Commands:
  api       serve Qinling's /v1/jobs REST API (--help for its options)
  operator  run the operator (--help for its options)
  invoke    call the function runtime (what each run's pod executes)
  deliver   send a dead letter to its sink (what a dead letter's pod executes)
  version   print the version
  help      show this help

Qinling's Jobs API as a Kubernetes operator with a REST facade.`;

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'operator': {
      const code = await (await import('./operator/main.js')).runOperator(rest, process.env);
      // A server's shutdown is complete here; no stray socket or timer may keep it alive.
      return process.exit(code);
    }
    case 'api': {
      const code = await (await import('./api/main.js')).runApi(rest, process.env);
      return process.exit(code);
    }
    case 'invoke':
      return (await import('./operator/invoke.js')).runInvoke(process.env);
    case 'deliver':
      return (await import('./operator/deliver.js')).runDeliver(process.env);
    case 'version':
    case '--version':
      console.log(pkg.version);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return 0;
    default:
      console.error(`qinling-jobs: unknown command "${cmd}"\n\n${usage}`);
      return 2;
  }
}

process.exitCode = await run(process.argv.slice(2));
