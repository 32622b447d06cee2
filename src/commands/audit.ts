import type { Command } from 'commander';

// Work in progress: registered in a later commit.
export function registerAudit(_program: Command): void {}
