/**
 * Subject keys: one small integer per billing subject id, the same for the life of the process (a
 * rebuilt classifier gets the same key for the same id). The aggregator indexes typed arrays by it,
 * so the per-flow hot path never hashes a subject id string (a Map lookup over 100k ids was ~25% of
 * ingest in the profile). Grows with the distinct subject ids ever seen: IP groups come from the
 * hub's config, interface subjects from what exporters report, which anyone can spoof, so the
 * classifier asks subjectKeyCount() before it makes a new interface subject (maxSubjects).
 */
const keyOfId = new Map<string, number>();
const idOfKey: string[] = [];

export function subjectKeyOf(subjectId: string): number {
  let key = keyOfId.get(subjectId);
  if (key === undefined) {
    key = idOfKey.length;
    keyOfId.set(subjectId, key);
    idOfKey.push(subjectId);
  }
  return key;
}

/** How many subject ids have a key (the table only grows; the classifier caps what it adds). */
export function subjectKeyCount(): number {
  return idOfKey.length;
}

export function hasSubjectKey(subjectId: string): boolean {
  return keyOfId.has(subjectId);
}
