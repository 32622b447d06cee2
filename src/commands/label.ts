import type { Command } from 'commander';

// Work in progress: registered in a later commit.
export function registerLabel(_program: Command): void {}
