// "Did you mean": the closest known name to a mistyped one, when it is close enough to be
// the likely intent (a transposition or a letter or two off), never a guess among far names.

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name closest to `name`, if within 2 edits (1 for names of 4 characters or fewer); ties: the first. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const limit = name.length <= 4 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const k of known) {
    if (k === name) continue;
    const distance = editDistance(name.toLowerCase(), k.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name: k, distance };
  }
  return best?.name;
}

/** `; did you mean "x"?` or nothing. */
export const didYouMean = (name: string, known: Iterable<string>): string => {
  const c = closest(name, known);
  return c === undefined ? "" : `; did you mean ${c}?`;
};
