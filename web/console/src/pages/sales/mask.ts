// Update masks from edited forms: a form's values compared with the record's (both in the
// form's shape), giving the contract's snake_case paths of the fields that changed, so an
// update sends only what the user changed (with the etag read).

export type FormValue = string | number | boolean | string[] | undefined | null;

/** `plannedCloseDate` → `planned_close_date`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `lead.company_name` (a violation's field) → `companyName` (the form's field). */
export function formField(path: string, prefix: string): string {
  const rest = prefix && path.startsWith(`${prefix}.`) ? path.slice(prefix.length + 1) : path;
  return rest.split(".")[0].replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function normal(v: FormValue): string {
  if (v === undefined || v === null) return "";
  if (Array.isArray(v)) return JSON.stringify(v);
  return typeof v === "string" ? v.trim() : String(v);
}

/**
 * The mask paths of the fields whose edited value differs from the original (empty strings,
 * null and undefined count as the same nothing; text is compared trimmed).
 */
export function changedPaths(
  original: Record<string, FormValue>,
  edited: Record<string, FormValue>,
  fields: readonly string[],
): string[] {
  return fields.filter((f) => f in edited && normal(original[f]) !== normal(edited[f])).map(snakeCase);
}
