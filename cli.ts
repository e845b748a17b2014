#!/usr/bin/env node
// qinling-jobs: one CLI for every part of the product (api, operator, invoke come with their issues).
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const usage = `Usage: qinling-jobs <command> [options]

Commands:
  version   print the version
  help      show this help

Qinling's Jobs API as a Kubernetes operator with a REST facade.`;

export function run(argv: string[]): number {
  const [cmd] = argv;
  switch (cmd) {
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

process.exitCode = run(process.argv.slice(2));
