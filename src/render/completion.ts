/** A command as completion needs it: a plain tree, built by the command layer from commander. */
export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  subcommands: CommandSpec[];
}

export interface OptionSpec {
  /** Every spelling: ['-k', '--k']. */
  flags: string[];
  description: string;
  /** Takes a value: its choices when known, files when the value is a path, else nothing. */
  takesValue: boolean;
  choices?: string[];
  isPath?: boolean;
}

export type Shell = 'bash' | 'zsh' | 'fish';

interface Node {
  path: string;
  spec: CommandSpec;
  /** Options of this command plus every option its ancestors offer (the globals). */
  options: OptionSpec[];
}

function flatten(root: CommandSpec): Node[] {
  const out: Node[] = [];
  const visit = (spec: CommandSpec, path: string, inherited: OptionSpec[]) => {
    const options = [...spec.options, ...inherited.filter((i) => !spec.options.some((o) => o.flags.some((f) => i.flags.includes(f))))];
    out.push({ path, spec, options });
    for (const sub of spec.subcommands) visit(sub, path ? `${path} ${sub.name}` : sub.name, options);
  };
  visit(root, '', []);
  return out;
}

const words = (xs: string[]) => xs.join(' ');
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(root: CommandSpec): string {
  const nodes = flatten(root);
  const transitions = nodes.flatMap((n) => n.spec.subcommands.map((s) => `"${n.path}|${s.name}"`));
  const lines = [
    `# ${root.name} completion for bash. Load it with:  source <(${root.name} completion bash)`,
    `_${root.name}_complete() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i w',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    w="${COMP_WORDS[i]}"',
    `    case "$path|$w" in ${transitions.join('|') || '"__none__"'}) path="\${path:+$path }$w" ;; esac`,
    '  done',
    '  case "$path|$prev" in',
  ];
  // One case per flag when it means the same everywhere (the globals), else one per command.
  const byFlag = new Map<string, { path: string; o: OptionSpec }[]>();
  for (const n of nodes) for (const o of n.options.filter((x) => x.takesValue)) for (const f of o.flags) byFlag.set(f, [...(byFlag.get(f) ?? []), { path: n.path, o }]);
  const reply = (o: OptionSpec) =>
    o.choices ? `COMPREPLY=($(compgen -W ${shq(words(o.choices))} -- "$cur"))` : o.isPath ? 'COMPREPLY=($(compgen -f -- "$cur"))' : 'COMPREPLY=()';
  for (const [flag, uses] of [...byFlag].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const kinds = new Set(uses.map((u) => reply(u.o)));
    if (kinds.size === 1) lines.push(`    *"|${flag}") ${reply(uses[0]!.o)}; return ;;`);
    else for (const u of uses) lines.push(`    "${u.path}|${flag}") ${reply(u.o)}; return ;;`);
  }
  lines.push('  esac', '  local opts="" subs=""', '  case "$path" in');
  for (const n of nodes) {
    lines.push(`    "${n.path}") opts=${shq(words(n.options.flatMap((o) => o.flags)))}; subs=${shq(words(n.spec.subcommands.map((s) => s.name)))} ;;`);
  }
  lines.push(
    '  esac',
    '  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur"))',
    '  elif [[ -n "$subs" ]]; then COMPREPLY=($(compgen -W "$subs" -- "$cur"))',
    '  else COMPREPLY=($(compgen -f -- "$cur")); fi',
    '}',
    `complete -o filenames -F _${root.name}_complete ${root.name}`,
    '',
  );
  return lines.join('\n');
}

function zsh(root: CommandSpec): string {
  // zsh runs the bash function through its bashcompinit layer: one implementation, two shells.
  return [
    `#compdef ${root.name}`,
    `# ${root.name} completion for zsh. Load it with:  source <(${root.name} completion zsh)`,
    'autoload -U +X compinit && { (( $+functions[compdef] )) || compinit; }',
    'autoload -U +X bashcompinit && bashcompinit',
    bash(root).split('\n').slice(1).join('\n'),
  ].join('\n');
}

function fish(root: CommandSpec): string {
  const nodes = flatten(root);
  const allSubs = new Set(nodes.flatMap((n) => n.spec.subcommands.map((s) => s.name)));
  const cmd = root.name;
  const lines = [`# ${cmd} completion for fish. Load it with:  ${cmd} completion fish | source`, `complete -c ${cmd} -f`];
  const condition = (n: Node): string => {
    if (!n.path) return `__fish_use_subcommand`;
    const parts = n.path.split(' ');
    const seen = parts.map((p) => `__fish_seen_subcommand_from ${p}`).join('; and ');
    const children = n.spec.subcommands.map((s) => s.name);
    return children.length ? `${seen}; and not __fish_seen_subcommand_from ${children.join(' ')}` : seen;
  };
  for (const n of nodes) {
    const cond = n.path ? condition(n) : `not __fish_seen_subcommand_from ${[...allSubs].join(' ')}`;
    for (const s of n.spec.subcommands) {
      lines.push(`complete -c ${cmd} -n ${shq(n.path ? condition(n) : '__fish_use_subcommand')} -a ${s.name} -d ${shq(s.description.slice(0, 80))}`);
    }
    for (const o of n.spec.options.length || !n.path ? n.options : []) {
      const spell = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      const value = o.choices ? ` -xa ${shq(words(o.choices))}` : o.takesValue ? ' -r -F' : '';
      lines.push(`complete -c ${cmd} -n ${shq(cond)} ${spell}${value} -d ${shq(o.description.slice(0, 80))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, root: CommandSpec): string {
  return shell === 'bash' ? bash(root) : shell === 'zsh' ? zsh(root) : fish(root);
}
