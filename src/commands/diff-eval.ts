import type { Command } from 'commander';

// Work in progress: registered in a later commit.
export function registerDiffEval(_program: Command): void {}
