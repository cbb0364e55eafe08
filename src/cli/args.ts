// Arguments of `lossradar <command> …`, read by node:util's parseArgs against each command's own
// option list: an unknown flag or a missing value is a usage error naming the flag, and `--help`
// (or `-h`) is understood by every command.
import { parseArgs as parseNodeArgs } from 'node:util';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
  help: boolean;
}

export interface CommandSpec {
  usage: string;
  /** Options that take a value; `multiple` ones may repeat. */
  options: Record<string, { multiple?: boolean }>;
}

export function parseArgs(argv: string[], spec: CommandSpec): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: 'string', multiple: o.multiple ?? false };
  // A value may itself begin with '-' (a base64url token does, one time in 32): node:util would
  // call `--token -x…` ambiguous, so a flag that takes a value takes the next word, whatever it is.
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') && !argv[i].includes('=') ? argv[i].slice(2) : undefined;
    if (name !== undefined && Object.hasOwn(spec.options, name) && i + 1 < argv.length) joined.push(`--${name}=${argv[++i]}`);
    else joined.push(argv[i]);
  }
  let parsed;
  try {
    parsed = parseNodeArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node:util words it for a programmer ("Option '--x <value>' argument missing"): keep its
    // message, which names the flag, but as a usage error of this command.
    if (argv.includes('--help') || argv.includes('-h')) return { positional: [], flags: new Map(), help: true };
    throw new UsageError((err as Error).message.replace(/\. To specify .*$/s, ''));
  }
  const flags = new Map<string, string[]>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (name === 'help' || value === undefined) continue;
    flags.set(name, Array.isArray(value) ? value.map(String) : [String(value)]);
  }
  return { positional: parsed.positionals, flags, help: parsed.values.help === true };
}

export class UsageError extends Error {}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const values = args.flags.get(name);
  return values?.[values.length - 1];
}

/**
 * A flag that takes one of `choices` ("expected a or b", "expected one of a, b, c" otherwise);
 * `fallback` when it is not given.
 */
export function choiceFlag<T extends string>(args: ParsedArgs, name: string, choices: readonly T[]): T | undefined;
export function choiceFlag<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], fallback: T): T;
export function choiceFlag<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], fallback?: T): T | undefined {
  const raw = flag(args, name);
  if (raw === undefined) return fallback;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  const expected = choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
  throw new UsageError(`--${name}: expected ${expected}, got ${JSON.stringify(raw)}`);
}

/** The interpreter a command runs Python with: --python, else LOSSRADAR_PYTHON, else python3. */
export function pythonFlag(args: ParsedArgs): string {
  return flag(args, 'python') ?? process.env.LOSSRADAR_PYTHON ?? 'python3';
}

export function intFlag(args: ParsedArgs, name: string, fallback: number): number {
  const raw = flag(args, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name}: expected a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}
