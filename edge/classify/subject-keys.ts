/**
 * Subject keys: one small integer per billing subject id, the same for the life of the process (a
 * rebuilt classifier gets the same key for the same id). The aggregator indexes typed arrays by it,
 * so the per-flow hot path never hashes a subject id string (a Map lookup over 100k ids was ~25% of
 * ingest in the profile). Grows with the distinct subject ids ever seen: IP groups come from the
 * hub's config, interface subjects from what exporters report, which anyone can spoof, so the
 * classifier asks subjectKeyCount() before it makes a new interface subject (maxSubjects).
 *
 * A key also names its subject's kind (interface or IP group: the id's own prefix says which, so
 * it never differs between callers), which lets a hit travel as one integer, a hit code
 * (hitCode below: key and direction), from the classifier to the aggregator: no object per hit.
 */
const keyOfId = new Map<string, number>();
const idOfKey: string[] = [];
const kindOfKey: number[] = [];

/** The key of subjectId, made on first use with its kind (a proto SubjectKind). */
export function subjectKeyOf(subjectId: string, kind: number): number {
  let key = keyOfId.get(subjectId);
  if (key === undefined) {
    key = idOfKey.length;
    keyOfId.set(subjectId, key);
    idOfKey.push(subjectId);
    kindOfKey.push(kind);
  }
  return key;
}

/** The subject id of a key made by subjectKeyOf. */
export function subjectIdOfKey(key: number): string {
  return idOfKey[key];
}

/** The kind a key was made with. */
export function subjectKindOfKey(key: number): number {
  return kindOfKey[key];
}

/** How many subject ids have a key (the table only grows; the classifier caps what it adds). */
export function subjectKeyCount(): number {
  return idOfKey.length;
}

export function hasSubjectKey(subjectId: string): boolean {
  return keyOfId.has(subjectId);
}

/**
 * A hit as one int32: subject key and direction (0 in, 1 out), key * 2 + direction. Keys stay far
 * below 2^30: the classifier caps interface subjects, and IP groups are the hub's config.
 */
export function hitCode(subjectKey: number, direction: number): number {
  return (subjectKey << 1) | direction;
}

export function keyOfHitCode(code: number): number {
  return code >>> 1;
}

export function directionOfHitCode(code: number): number {
  return code & 1;
}
