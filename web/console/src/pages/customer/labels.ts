// The text keys of the customers' enums and history fields, and the duplicate warning's lines,
// so each screen words them the same way.

import {
  CustomerKind,
  CustomerStatus,
  DuplicateMatchKind,
  FollowUpMethod,
  Gender,
  OwnerChangeReason,
  type DuplicateMatch,
} from "../../gen/crm/customers/v1/customers_pb.js";

type T = (key: string, values?: Record<string, string>) => string;

export const KINDS = [CustomerKind.COMPANY, CustomerKind.INDIVIDUAL];
export const STATUSES = [CustomerStatus.POTENTIAL, CustomerStatus.ACTIVE, CustomerStatus.DORMANT, CustomerStatus.LOST];
export const GENDERS = [Gender.MALE, Gender.FEMALE, Gender.OTHER];
export const METHODS = [
  FollowUpMethod.PHONE,
  FollowUpMethod.EMAIL,
  FollowUpMethod.IM,
  FollowUpMethod.VISIT,
  FollowUpMethod.MEETING,
  FollowUpMethod.OTHER,
];

const lower = (name: string | undefined) => (name ?? "unspecified").toLowerCase();

export const kindKey = (k: CustomerKind) => `customers.kind.${lower(CustomerKind[k])}`;
export const statusKey = (s: CustomerStatus) => `customers.status.${lower(CustomerStatus[s])}`;
export const genderKey = (g: Gender) => `customers.gender.${lower(Gender[g])}`;
export const methodKey = (m: FollowUpMethod) => `customers.method.${lower(FollowUpMethod[m])}`;
export const reasonKey = (r: OwnerChangeReason) => `customers.reason.${lower(OwnerChangeReason[r])}`;
export const matchKey = (m: DuplicateMatchKind) => `customers.match.${lower(DuplicateMatchKind[m])}`;

/** The history's field names (`level_code`, `region.city`) the screens have a label for. */
export const FIELD_LABELS: Record<string, string> = {
  kind: "customers.kindLabel",
  name: "customers.name",
  short_name: "customers.shortName",
  tax_id: "customers.taxId",
  industry_code: "customers.industry",
  scale: "customers.scale",
  website: "customers.website",
  "region.country": "customers.country",
  "region.province": "customers.province",
  "region.city": "customers.city",
  "region.district": "customers.district",
  address: "customers.address",
  phone: "customers.phone",
  mobile: "customers.mobile",
  email: "customers.email",
  gender: "customers.genderLabel",
  birthday: "customers.birthday",
  category_id: "customers.category",
  type_code: "customers.type",
  level_code: "customers.level",
  source_code: "customers.source",
  status: "customers.statusLabel",
  remark: "customers.remark",
  tags: "customers.tags",
  owner_id: "customers.owner",
};

/** A history field's label, or the field's own name when the screens have none. */
export function fieldLabel(t: T, field: string): string {
  const key = FIELD_LABELS[field];
  return key ? t(key) : field;
}

/** One existing customer the duplicate check found, as the warning words it. */
export function duplicateLine(t: T, match: DuplicateMatch, ownerName: (id: string) => string): string {
  const on = t(matchKey(match.kind));
  if (match.inPool || !match.ownerId) return t("customers.duplicate.inPool", { name: match.name, on });
  return t("customers.duplicate.owned", { name: match.name, owner: ownerName(match.ownerId), on });
}

/** The matches to warn about: exact ones first, each customer once. */
export function duplicateMatches(exact: DuplicateMatch[], close: DuplicateMatch[]): DuplicateMatch[] {
  const seen = new Set<string>();
  const all: DuplicateMatch[] = [];
  for (const m of [...exact, ...close]) {
    if (seen.has(m.customerId)) continue;
    seen.add(m.customerId);
    all.push(m);
  }
  return all;
}

/** A history action's text key (`create`, `update`, `owner`...), or null when the screens have none. */
export function actionKey(action: string): string | null {
  return ["create", "update", "delete", "merge", "owner", "import", "restore"].includes(action) ? `customers.change.${action}` : null;
}

/** The text key of an enum value as the history writes it (`kind` `company`), or null. */
export function historyValueKey(field: string, value: string): string | null {
  if (!value) return null;
  const area = { kind: "kind", status: "status", gender: "gender" }[field];
  return area ? `customers.${area}.${value.toLowerCase()}` : null;
}
