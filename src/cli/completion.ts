/**
 * `snapkeeper completion bash|zsh|fish`: a completion script, generated
 * from the commands and options registered here, so it never lags behind
 * them. It completes commands, each command's options, the values of a few
 * (`--output`, `--log-format`, files for `--from` / `--identity`), and
 * workload names after `--workload`: those are asked of `snapkeeper list -o
 * json` for the `--from` on the line (or SNAPKEEPER_STORAGE) when TAB is
 * pressed there, and only then.
 *
 * zsh uses the bash script through bashcompinit, which zsh ships for this.
 */
import type { Command, Option } from 'commander';
import { UserError } from '../errors.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

export function checkShell(s: string): Shell {
  if (!(SHELLS as readonly string[]).includes(s))
    throw new UserError(`completion ${JSON.stringify(s)}: expected bash, zsh or fish`);
  return s as Shell;
}

/** What a command offers: its name, its options, what their values are. */
export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** Values of its first argument, when they are a fixed set (completion's shells). */
  argumentValues: string[];
}

export interface OptionSpec {
  flags: string[];
  description: string;
  /** undefined: a switch; otherwise what its value is. */
  value?: 'workload' | 'file' | 'other' | string[];
}

export function commandSpecs(program: Command): { global: OptionSpec[]; commands: CommandSpec[] } {
  return {
    global: [
      ...program.options.filter((o) => !o.hidden).map((o) => optionSpec(o, '')),
      { flags: ['-h', '--help'], description: 'display help' },
    ],
    commands: program.commands.map((c) => ({
      name: c.name(),
      description: c.description(),
      options: [
        ...c.options.filter((o) => !o.hidden).map((o) => optionSpec(o, c.name())),
        { flags: ['-h', '--help'], description: 'display help for command' },
      ],
      argumentValues: c.name() === 'completion' ? [...SHELLS] : [],
    })),
  };
}

function optionSpec(o: Option, command: string): OptionSpec {
  const flags = [o.short, o.long].filter((f): f is string => f !== undefined);
  const spec: OptionSpec = { flags, description: o.description };
  if (!o.required && !o.optional) return spec;
  const long = o.long ?? '';
  if (o.argChoices) spec.value = o.argChoices;
  else if (long === '--workload') spec.value = 'workload';
  else if (/<file>/.test(o.flags) || ['--from', '--kubeconfig'].includes(long)) spec.value = 'file';
  else if (long === '--to' && command === 'backup') spec.value = 'file';
  else if (long === '--output')
    spec.value = command === 'list' ? ['table', 'wide', 'json'] : ['table', 'json'];
  else spec.value = 'other';
  return spec;
}

export function completionScript(program: Command, shell: Shell): string {
  const specs = commandSpecs(program);
  if (shell === 'fish') return fishScript(specs);
  const bash = bashScript(specs);
  if (shell === 'bash') return bash;
  return (
    '#compdef snapkeeper kubectl-snapkeeper\n' +
    '# snapkeeper completion for zsh: source <(snapkeeper completion zsh)\n' +
    'autoload -U +X compinit && compinit\n' +
    'autoload -U +X bashcompinit && bashcompinit\n' +
    bash.replace(/^# snapkeeper completion for bash.*\n/, '')
  );
}

const words = (xs: readonly string[]) => xs.join(' ');
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bashScript(s: { global: OptionSpec[]; commands: CommandSpec[] }): string {
  const all = [...s.global, ...s.commands.flatMap((c) => c.options)];
  const withValue = (pred: (o: OptionSpec) => boolean) =>
    words([
      ...new Set(all.filter((o) => o.value !== undefined && pred(o)).flatMap((o) => o.flags)),
    ]);
  const cases = s.commands
    .map((c) => {
      const common = s.global.filter((o) => !o.flags.includes('--version'));
      const opts = words([...new Set([...c.options, ...common].flatMap((o) => o.flags))]);
      const choices = c.options
        .map((o) =>
          Array.isArray(o.value)
            ? `      ${o.flags.join('|')}) words=${sq(words(o.value))} ;;`
            : o.value === 'file'
              ? `      ${o.flags.join('|')}) files=1 ;;`
              : undefined,
        )
        .filter((x) => x !== undefined)
        .join('\n');
      return (
        `    ${c.name})\n` +
        `      opts=${sq(opts)}\n` +
        `      args=${sq(words(c.argumentValues))}\n` +
        (choices ? `      case "$prev" in\n${choices}\n      esac\n` : '') +
        '      ;;'
      );
    })
    .join('\n');
  const globalChoices = s.global
    .filter((o) => Array.isArray(o.value))
    .map((o) => `    ${o.flags.join('|')}) words=${sq(words(o.value as string[]))} ;;`)
    .join('\n');
  return `# snapkeeper completion for bash: source <(snapkeeper completion bash)
_snapkeeper_takes_value=${sq(` ${withValue(() => true)} `)}

# Workload names of the --from location on the line (or SNAPKEEPER_STORAGE),
# asked of \`snapkeeper list -o json\` when they are needed.
_snapkeeper_workloads() {
  local from="\${SNAPKEEPER_STORAGE:-}" extra=() i w
  for ((i = 1; i < \${#COMP_WORDS[@]} - 1; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      --from | --endpoint | --region)
        [[ $w == --from ]] && from="\${COMP_WORDS[i + 1]}" || extra+=("$w" "\${COMP_WORDS[i + 1]}")
        ;;
      --force-path-style) extra+=("$w") ;;
    esac
  done
  [[ -n $from ]] || return 0
  from="\${from/#\\~/$HOME}"
  command "\${COMP_WORDS[0]}" list -q -o json --from "$from" "\${extra[@]}" 2>/dev/null |
    grep -o '"workload":"[^"]*"' | cut -d'"' -f4 | sort -u
}

_snapkeeper() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD - 1]}"
  local cmd="" i w opts="" args="" words="" files=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ $_snapkeeper_takes_value == *" $w "* ]]; then
      ((i++))
    elif [[ $w != -* ]]; then
      cmd="$w"
      break
    fi
  done
  COMPREPLY=()
  if [[ $prev == --workload ]]; then
    COMPREPLY=($(compgen -W "$(_snapkeeper_workloads)" -- "$cur"))
    return 0
  fi
  case "$prev" in
${globalChoices}
  esac
  case "$cmd" in
    "")
      opts=${sq(words(s.global.flatMap((o) => o.flags)))}
      args=${sq(words(s.commands.map((c) => c.name)))}
      ;;
${cases}
  esac
  if [[ -n $files ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
  elif [[ -n $words ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  elif [[ $_snapkeeper_takes_value == *" $prev "* ]]; then
    COMPREPLY=()
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$args" -- "$cur"))
  fi
  return 0
}
complete -F _snapkeeper snapkeeper kubectl-snapkeeper
`;
}

function fishScript(s: { global: OptionSpec[]; commands: CommandSpec[] }): string {
  const names = words(s.commands.map((c) => c.name));
  const lines: string[] = [
    '# snapkeeper completion for fish: snapkeeper completion fish > ~/.config/fish/completions/snapkeeper.fish',
    '',
    '# Workload names of the --from location on the line (or SNAPKEEPER_STORAGE),',
    '# asked of `snapkeeper list -o json` when they are needed.',
    'function __snapkeeper_workloads',
    '    set -l tokens (commandline -opc)',
    '    set -l from $SNAPKEEPER_STORAGE',
    '    set -l extra',
    '    for i in (seq 2 (math (count $tokens) - 1))',
    '        switch $tokens[$i]',
    '            case --from',
    '                set from $tokens[(math $i + 1)]',
    '            case --endpoint --region',
    '                set -a extra $tokens[$i] $tokens[(math $i + 1)]',
    '        end',
    '    end',
    '    contains -- --force-path-style $tokens; and set -a extra --force-path-style',
    '    test -n "$from"; or return 0',
    '    command $tokens[1] list -q -o json --from $from $extra 2>/dev/null | string match -ra \'"workload":"[^"]*"\' | string replace -r \'"workload":"([^"]*)"\' \'$1\' | sort -u',
    'end',
    '',
    'for cmd in snapkeeper kubectl-snapkeeper',
    '    complete -c $cmd -f',
  ];
  const opt = (o: OptionSpec, cond: string) => {
    const parts = [`    complete -c $cmd -n ${sq(cond)}`];
    for (const f of o.flags)
      parts.push(f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`);
    if (o.value === 'workload') parts.push("-x -a '(__snapkeeper_workloads)'");
    else if (o.value === 'file') parts.push('-r -F');
    else if (Array.isArray(o.value)) parts.push(`-x -a ${sq(words(o.value))}`);
    else if (o.value === 'other') parts.push('-x');
    parts.push(`-d ${sq(o.description.slice(0, 60))}`);
    return parts.join(' ');
  };
  for (const o of s.global) lines.push(opt(o, 'true'));
  for (const c of s.commands) {
    lines.push(
      `    complete -c $cmd -n ${sq(`not __fish_seen_subcommand_from ${names}`)} -a ${c.name} -d ${sq(c.description.slice(0, 60))}`,
    );
    const cond = `__fish_seen_subcommand_from ${c.name}`;
    for (const o of c.options) if (o.flags[0] !== '-h') lines.push(opt(o, cond));
    if (c.argumentValues.length > 0)
      lines.push(`    complete -c $cmd -n ${sq(cond)} -a ${sq(words(c.argumentValues))}`);
  }
  lines.push('end', '');
  return lines.join('\n');
}
