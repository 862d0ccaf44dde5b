/**
 * Reads `--flag value` / `--flag=value` command-line arguments for the project's small CLIs
 * (seed, bench): each yielded flag can take its value, checked, on demand.
 */
export interface Flag {
  readonly name: string;
  value(): string;
  /** an integer of at least `min` */
  integer(min: number): number;
}

export function* readFlags(argv: readonly string[], usage: string): Generator<Flag> {
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`option ${name} needs a value\n${usage}`);
      return v;
    };
    const integer = (min: number): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new Error(`option ${name} needs an integer of at least ${min}\n${usage}`);
      return n;
    };
    yield { name, value, integer };
  }
}
