import { Argument, Command, Option } from 'commander';
import { completionScript, type CommandSpec, type Shell } from '../render/completion.js';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, subcommands, options and their values)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  $ source <(rag completion bash)                       # this shell; add it to ~/.bashrc to keep it
  $ rag completion zsh > "\${fpath[1]}/_rag"             # zsh, for new shells
  $ rag completion fish > ~/.config/fish/completions/rag.fish`,
    )
    .action((shell: Shell, _opts: unknown, cmd: Command) => {
      process.stdout.write(completionScript(shell, specOf(cmd.parent!)));
    });
}

/** The commander tree as plain data (render/ never sees commander). */
function specOf(c: Command): CommandSpec {
  return {
    name: c.name(),
    description: c.description(),
    options: [
      ...c.options
        .filter((o: Option) => !o.hidden)
        .map((o: Option) => ({
          flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
          description: o.description,
          takesValue: o.required || o.optional,
          choices: o.argChoices,
          isPath: /<(file|dir|path|paths\.\.\.)>/.test(o.flags),
        })),
      { flags: ['-h', '--help'], description: 'show help with examples', takesValue: false },
    ],
    subcommands: c.commands.filter((s) => !(s as unknown as { _hidden?: boolean })._hidden).map(specOf),
  };
}
