import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { HandoverCountSchema } from "../../gen/crm/events/v1/handover_pb.js";
import { DataScope, DepartmentSchema, EmployeeSchema, RoleSchema } from "../../gen/crm/identity/v1/identity_pb.js";
import {
  departmentMask,
  departmentOptions,
  departmentTree,
  employeeFilter,
  employeeMask,
  formField,
  kindKey,
  roleFromValues,
  roleMask,
  roleValues,
  servicesOf,
  subtreeIds,
  summarizeCounts,
} from "./logic";

const dept = (id: string, parentId: string, name: string, path: string) => create(DepartmentSchema, { id, parentId, name, path });

describe("the department tree", () => {
  const flat = [
    dept("c", "a", "Sales East", "/a/c/"),
    dept("a", "", "Company", "/a/"),
    dept("b", "a", "Finance", "/a/b/"),
    dept("d", "c", "Shanghai", "/a/c/d/"),
    dept("x", "gone", "Orphan", "/gone/x/"),
  ];

  it("nests children under parents, siblings by name, orphans at the top", () => {
    const tree = departmentTree(flat);
    expect(tree.map((n) => n.key)).toEqual(["a", "x"]);
    expect(tree[0].children?.map((n) => n.key)).toEqual(["b", "c"]);
    expect(tree[0].children?.[1].children?.map((n) => n.key)).toEqual(["d"]);
    // Leaves carry no children array (no expander).
    expect(tree[0].children?.[0].children).toBeUndefined();
  });

  it("excludes a department and everything below it as a new parent", () => {
    expect([...subtreeIds(flat, "c")].sort()).toEqual(["c", "d"]);
    expect([...subtreeIds(flat, "a")].sort()).toEqual(["a", "b", "c", "d"]);
  });

  it("labels options with the path of names", () => {
    expect(departmentOptions(flat).find((o) => o.value === "d")?.label).toBe("Company / Sales East / Shanghai");
  });

  it("masks only what changed", () => {
    const d = create(DepartmentSchema, { id: "c", name: "Sales", parentId: "a", managerId: "" });
    expect(departmentMask(d, { name: "Sales", parentId: "a", managerId: "" })).toEqual([]);
    expect(departmentMask(d, { name: "Sales East", parentId: "b", managerId: "u1" })).toEqual(["name", "parent_id", "manager_id"]);
  });
});

describe("employees", () => {
  it("builds the list filter", () => {
    expect(employeeFilter("", "")).toBe("");
    expect(employeeFilter("active", "")).toBe('status = "active"');
    expect(employeeFilter("deactivated", "d1")).toBe('status = "deactivated" AND department_id = "d1"');
  });

  it("masks only the changed fields, roles regardless of order", () => {
    const e = create(EmployeeSchema, { id: "e1", displayName: "Li Lei", email: "", phone: "1", departmentId: "d1", managerId: "", roleIds: ["a", "b"] });
    expect(employeeMask(e, { displayName: "Li Lei", phone: "1", departmentId: "d1", roleIds: ["b", "a"] })).toEqual([]);
    expect(employeeMask(e, { displayName: "Li Lei", email: "l@x.cn", phone: "1", departmentId: "d2", managerId: "m", roleIds: ["a"] })).toEqual([
      "email",
      "department_id",
      "manager_id",
      "role_ids",
    ]);
  });

  it("maps a violation's path to the form field", () => {
    expect(formField("employee.display_name")).toBe("displayName");
    expect(formField("password")).toBe("password");
  });
});

describe("the role form", () => {
  const role = create(RoleSchema, {
    id: "r1",
    name: "east_sales",
    description: "East",
    permissions: ["customers.*.read", "sales.lead.read"],
    scopes: [{ service: "customers", scope: DataScope.DEPARTMENT_TREE }],
  });

  it("round-trips a role", () => {
    const values = roleValues(role);
    expect(values).toEqual({
      name: "east_sales",
      description: "East",
      permissions: ["customers.*.read", "sales.lead.read"],
      scopes: [{ service: "customers", scope: DataScope.DEPARTMENT_TREE }],
    });
    expect(roleMask(role, roleFromValues(values))).toEqual([]);
  });

  it("cleans the form into a request: trimmed, no repeats, incomplete scopes dropped, last scope wins", () => {
    const next = roleFromValues({
      name: " east_sales ",
      permissions: ["sales.lead.read", " sales.lead.read", "", "customers.*.read"],
      scopes: [{ service: "sales", scope: DataScope.OWN }, { service: "customers" }, { service: "sales", scope: DataScope.ALL }],
    });
    expect(next).toEqual({
      name: "east_sales",
      description: "",
      permissions: ["sales.lead.read", "customers.*.read"],
      scopes: [{ service: "sales", scope: DataScope.ALL }],
    });
    expect(roleMask(role, next)).toEqual(["description", "scopes"]);
  });

  it("offers the services the permission catalogue names", () => {
    expect(servicesOf(["sales.lead.read", "customers.customer.read", "sales.quota.manage", "*"])).toEqual(["customers", "sales"]);
  });
});

describe("the dry-run counts", () => {
  it("adds up repeats per service and kind, with a total", () => {
    const counts = [
      create(HandoverCountSchema, { service: "sales", kind: "leads", count: 2n }),
      create(HandoverCountSchema, { service: "customers", kind: "customers", count: 3n }),
      create(HandoverCountSchema, { service: "customers", kind: "customers", count: 1n }),
      create(HandoverCountSchema, { service: "customers", kind: "contacts", count: 0n }),
    ];
    const { rows, total } = summarizeCounts(counts);
    expect(rows.map((r) => [r.service, r.kind, r.count])).toEqual([
      ["customers", "contacts", 0],
      ["customers", "customers", 4],
      ["sales", "leads", 2],
    ]);
    expect(total).toBe(6);
  });

  it("names the kinds it knows", () => {
    expect(kindKey("open_opportunities")).toBe("admin.kind.open_opportunities");
    expect(kindKey("spaceships")).toBe("");
  });
});
