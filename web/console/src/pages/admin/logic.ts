// The administration screens' logic, kept apart from the screens so the tests check it: the
// department tree from the flat list, the employee list's filter, an employee edit's update
// mask, a role form to and from its request, and a handover's dry-run counts.

import type { HandoverCount } from "../../gen/crm/events/v1/handover_pb.js";
import { DataScope, type Department, type Employee, type Role } from "../../gen/crm/identity/v1/identity_pb.js";

// ---- Departments ----

export interface DepartmentNode {
  key: string;
  department: Department;
  /** Absent on a leaf (antd's tree table then shows no expander). */
  children?: DepartmentNode[];
}

/**
 * The tree of the flat list (the service sends parents before children, but the order is not
 * relied on). A department whose parent is not in the list is a root; siblings are sorted by
 * name.
 */
export function departmentTree(departments: Department[]): DepartmentNode[] {
  const nodes = new Map<string, DepartmentNode>();
  for (const d of departments) nodes.set(d.id, { key: d.id, department: d });
  const roots: DepartmentNode[] = [];
  for (const d of departments) {
    const node = nodes.get(d.id)!;
    const parent = d.parentId ? nodes.get(d.parentId) : undefined;
    if (parent && parent !== node) (parent.children ??= []).push(node);
    else roots.push(node);
  }
  const sort = (list: DepartmentNode[]) => {
    list.sort((a, b) => a.department.name.localeCompare(b.department.name));
    for (const n of list) if (n.children) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** The department and every one below it (by path), which may not become its new parent. */
export function subtreeIds(departments: Department[], id: string): Set<string> {
  const self = departments.find((d) => d.id === id);
  const ids = new Set<string>([id]);
  if (!self?.path) return ids;
  for (const d of departments) if (d.path.startsWith(self.path)) ids.add(d.id);
  return ids;
}

/** Departments as picker options, each labelled with its path of names (`Company / Sales`). */
export function departmentOptions(departments: Department[]): { value: string; label: string }[] {
  const byId = new Map(departments.map((d) => [d.id, d]));
  const label = (d: Department): string => {
    const names: string[] = [];
    let at: Department | undefined = d;
    const seen = new Set<string>();
    while (at && !seen.has(at.id)) {
      seen.add(at.id);
      names.unshift(at.name);
      at = at.parentId ? byId.get(at.parentId) : undefined;
    }
    return names.join(" / ");
  };
  return departments.map((d) => ({ value: d.id, label: label(d) })).sort((a, b) => a.label.localeCompare(b.label));
}

/** The fields a department edit changed, as the update mask names them. */
export function departmentMask(original: Department, next: { name: string; parentId: string; managerId: string }): string[] {
  const paths: string[] = [];
  if (next.name !== original.name) paths.push("name");
  if (next.parentId !== original.parentId) paths.push("parent_id");
  if (next.managerId !== original.managerId) paths.push("manager_id");
  return paths;
}

// ---- Employees ----

export type StatusFilter = "" | "active" | "deactivated";

/** The ListEmployees filter (AIP-160) for a status and a department; empty for neither. */
export function employeeFilter(status: StatusFilter, departmentId: string): string {
  const parts: string[] = [];
  if (status) parts.push(`status = "${status}"`);
  if (departmentId) parts.push(`department_id = "${departmentId.replace(/["\\]/g, "")}"`);
  return parts.join(" AND ");
}

export interface EmployeeFormValues {
  displayName: string;
  email?: string;
  phone?: string;
  departmentId: string;
  managerId?: string;
  roleIds?: string[];
}

/** The fields an employee edit changed, as UpdateEmployee's mask names them. */
export function employeeMask(original: Employee, next: EmployeeFormValues): string[] {
  const paths: string[] = [];
  if (next.displayName !== original.displayName) paths.push("display_name");
  if ((next.email ?? "") !== original.email) paths.push("email");
  if ((next.phone ?? "") !== original.phone) paths.push("phone");
  if (next.departmentId !== original.departmentId) paths.push("department_id");
  if ((next.managerId ?? "") !== original.managerId) paths.push("manager_id");
  const before = [...original.roleIds].sort().join(",");
  const after = [...(next.roleIds ?? [])].sort().join(",");
  if (before !== after) paths.push("role_ids");
  return paths;
}

/** A field violation's path (`employee.display_name`) as the form's field name (`displayName`). */
export function formField(path: string): string {
  const last = path.split(".").pop() ?? path;
  return last.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

// ---- Roles ----

/** The data scopes a role can give, narrowest first. */
export const SCOPES: DataScope[] = [DataScope.OWN, DataScope.DEPARTMENT, DataScope.DEPARTMENT_TREE, DataScope.ALL];

export function scopeKey(scope: DataScope): string {
  switch (scope) {
    case DataScope.OWN:
      return "admin.scope.own";
    case DataScope.DEPARTMENT:
      return "admin.scope.department";
    case DataScope.DEPARTMENT_TREE:
      return "admin.scope.departmentTree";
    case DataScope.ALL:
      return "admin.scope.all";
    default:
      return "admin.scope.none";
  }
}

export interface RoleFormValues {
  name: string;
  description?: string;
  permissions?: string[];
  scopes?: { service?: string; scope?: DataScope }[];
}

/** A role as the form shows it. */
export function roleValues(role: Role): RoleFormValues {
  return {
    name: role.name,
    description: role.description,
    permissions: [...role.permissions],
    scopes: role.scopes.map((s) => ({ service: s.service, scope: s.scope })),
  };
}

/** The role the form describes: permissions trimmed and without repeats, incomplete scope rows dropped. */
export function roleFromValues(values: RoleFormValues): { name: string; description: string; permissions: string[]; scopes: { service: string; scope: DataScope }[] } {
  const permissions = [...new Set((values.permissions ?? []).map((p) => p.trim()).filter(Boolean))];
  const scopes: { service: string; scope: DataScope }[] = [];
  for (const s of values.scopes ?? []) {
    const service = s.service?.trim();
    if (!service || !s.scope) continue;
    const existing = scopes.find((x) => x.service === service);
    if (existing) existing.scope = s.scope;
    else scopes.push({ service, scope: s.scope });
  }
  return { name: values.name.trim(), description: (values.description ?? "").trim(), permissions, scopes };
}

/** What an edit of `role` changed, as UpdateRole's mask names it (description, permissions, scopes). */
export function roleMask(role: Role, next: ReturnType<typeof roleFromValues>): string[] {
  const paths: string[] = [];
  if (next.description !== role.description) paths.push("description");
  if ([...next.permissions].sort().join(",") !== [...role.permissions].sort().join(",")) paths.push("permissions");
  const scopes = (list: { service: string; scope: DataScope }[]) =>
    list
      .map((s) => `${s.service}=${s.scope}`)
      .sort()
      .join(",");
  if (scopes(next.scopes) !== scopes(role.scopes)) paths.push("scopes");
  return paths;
}

/** The services permissions name (their first segment), for the scope rows' picker. */
export function servicesOf(permissions: string[]): string[] {
  return [...new Set(permissions.map((p) => p.split(".")[0]).filter((s) => s && s !== "*"))].sort();
}

// ---- Handover ----

export interface CountRow {
  key: string;
  service: string;
  kind: string;
  count: number;
}

/** A dry run's counts, one row per service and kind (repeats added up), and their total. */
export function summarizeCounts(counts: HandoverCount[]): { rows: CountRow[]; total: number } {
  const rows = new Map<string, CountRow>();
  for (const c of counts) {
    const key = `${c.service}/${c.kind}`;
    const row = rows.get(key) ?? { key, service: c.service, kind: c.kind, count: 0 };
    row.count += Number(c.count);
    rows.set(key, row);
  }
  const list = [...rows.values()].sort((a, b) => a.service.localeCompare(b.service) || a.kind.localeCompare(b.kind));
  return { rows: list, total: list.reduce((sum, r) => sum + r.count, 0) };
}

/** The text key of a kind of record (`open_opportunities`), or empty when the console has none. */
export function kindKey(kind: string): string {
  const known = ["customers", "contacts", "leads", "open_opportunities", "opportunities", "projects", "activities", "follow_ups", "orders"];
  return known.includes(kind) ? `admin.kind.${kind}` : "";
}
