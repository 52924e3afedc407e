// The pool rules as one short line: which figures to show (a zero means "no cap" or "never",
// so it is left out) and the keys of their texts.

export interface PolicyFigures {
  totalOwnedCap: number;
  reclaimCooldownDays: number;
  lockCap: number;
  defaultRule?: { noFollowUpDays: number; noOrderDays: number; ownedCap: number };
  levelRules: { levelCode: string; ownedCap: number; noFollowUpDays: number; noOrderDays: number }[];
}

/** One figure of the line: its text key and the values it fills in. */
export interface Figure {
  key: string;
  values: Record<string, string>;
}

/** The figures worth a word, in the order a salesperson meets them. */
export function policyFigures(p: PolicyFigures, format: (n: number) => string = String): Figure[] {
  const out: Figure[] = [];
  if (p.totalOwnedCap > 0) out.push({ key: "pool.policy.cap", values: { n: format(p.totalOwnedCap) } });
  for (const r of p.levelRules) {
    if (r.ownedCap > 0) out.push({ key: "pool.policy.levelCap", values: { level: r.levelCode, n: format(r.ownedCap) } });
  }
  if (p.reclaimCooldownDays > 0) out.push({ key: "pool.policy.cooldown", values: { n: format(p.reclaimCooldownDays) } });
  const d = p.defaultRule;
  if (d && d.noFollowUpDays > 0) out.push({ key: "pool.policy.noFollowUp", values: { n: format(d.noFollowUpDays) } });
  if (d && d.noOrderDays > 0) out.push({ key: "pool.policy.noOrder", values: { n: format(d.noOrderDays) } });
  for (const r of p.levelRules) {
    if (r.noFollowUpDays > 0)
      out.push({ key: "pool.policy.levelNoFollowUp", values: { level: r.levelCode, n: format(r.noFollowUpDays) } });
  }
  out.push(p.lockCap > 0 ? { key: "pool.policy.locks", values: { n: format(p.lockCap) } } : { key: "pool.policy.noLocks", values: {} });
  return out;
}
