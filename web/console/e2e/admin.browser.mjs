// Administration, in a real browser against a running suite: the administrator creates an
// employee through the form; deactivates another employee who owns customers and a lead, after a
// dry run that counts them, and the records pass to the chosen successor (through the services'
// events: polled); creates a department and sees the service refuse deleting one with employees;
// creates a custom role with a permission and a data scope, then deletes it. Each screen in each
// language (axe-checked and photographed).
//
//   CRM_ADMIN_PASSWORD=... node --test e2e/admin.browser.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { adminPassword, adminToken, everyLanguage, newEmployee, newPage, rest, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

/**
 * Opens the antd Select whose input is `#id`, types `text` and picks the option titled `title`;
 * waits for the list to close (a multiple select's stays open: closed with Escape).
 */
async function pick(page, id, text, title, { multiple = false } = {}) {
  await page.locator(`#${id}`).click();
  await page.locator(`#${id}`).fill(text);
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${title}"]`).click();
  if (multiple) await page.locator(`#${id}`).press("Escape");
  await page.waitForFunction(() => !document.querySelector(".ant-select-dropdown:not(.ant-select-dropdown-hidden)"));
}

async function eventually(what, check, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test("the administrator creates an employee and deactivates one after a dry run", async () => {
  const admin = await adminToken();
  const suffix = unique();
  const { departments } = await rest(admin, "GET", "/v1/departments");
  const top = departments.find((d) => !d.parentId) ?? departments[0];

  // Someone who leaves, owning two customers and a lead; and who takes over.
  const leaver = await newEmployee(admin, { roles: ["salesperson"], displayName: `Leaver ${suffix}` });
  const successor = await newEmployee(admin, { roles: ["salesperson"], displayName: `Successor ${suffix}` });
  const leaverToken = await tokenFor(leaver.login, leaver.password);
  const made = [];
  for (const n of [1, 2]) {
    const { customer } = await rest(leaverToken, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: `交接测试${suffix}客户${n}` } });
    made.push(customer);
  }
  const { lead } = await rest(leaverToken, "POST", "/v1/leads", { lead: { companyName: `交接线索${suffix}`, contactName: "王经理", source: "LEAD_SOURCE_REFERRAL" } });

  const page = await newPage("en-US");
  await signIn(page, "admin", adminPassword);
  await page.getByRole("menuitem", { name: "Employees" }).click();

  // A new employee through the form.
  const login = `e2e.new.${suffix}`;
  await page.getByRole("button", { name: "New employee" }).click();
  await page.locator("#new-employee_login").fill(login);
  await page.locator("#new-employee_displayName").fill(`New hire ${suffix}`);
  await page.locator("#new-employee_password").fill(`pw-${suffix}-long`);
  await pick(page, "new-employee_departmentId", top.name, top.name);
  await pick(page, "new-employee_roleIds", "salesperson", "salesperson", { multiple: true });
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: `New hire ${suffix}` }).waitFor();
  const { employees: found } = await rest(admin, "GET", `/v1/employees?query=${encodeURIComponent(login)}`);
  assert.equal(found.length, 1, "the employee exists");
  assert.deepEqual(found[0].roleIds, ["salesperson"]);
  assert.equal(found[0].departmentId, top.id);
  // The new hire can sign in with the initial password.
  await tokenFor(login, `pw-${suffix}-long`);
  // An edit sends only the changed field (against the etag).
  await page.getByRole("button", { name: "Edit" }).click();
  await page.locator("#edit-employee_phone").fill("13800138000");
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await page.locator(".ant-descriptions").getByText("13800138000").waitFor();
  const { employee: edited } = await rest(admin, "GET", `/v1/employees/${found[0].id}`);
  assert.equal(edited.phone, "13800138000");
  assert.equal(edited.displayName, `New hire ${suffix}`);

  // The leaver, found by search, then their page.
  await page.getByRole("menuitem", { name: "Employees" }).click();
  await page.locator("#employee-search").fill(leaver.login);
  await page.getByRole("link", { name: leaver.displayName }).waitFor();
  await everyLanguage(page, "admin-employees", (p) => p.getByRole("link", { name: leaver.displayName }).waitFor());
  await page.getByRole("link", { name: leaver.displayName }).click();
  await page.getByRole("heading", { name: leaver.displayName }).waitFor();

  // The dry run counts what would move.
  const card = page.locator(".ant-card").filter({ has: page.locator(".ant-card-head-title", { hasText: /^Deactivate$/ }) });
  await pick(page, "deactivate-successor", successor.displayName, `${successor.displayName} (${successor.login})`);
  await card.getByRole("button", { name: "Dry run" }).click();
  const customersCount = card.locator("[data-kind=customers]");
  await customersCount.waitFor();
  assert.ok(Number(await customersCount.textContent()) >= made.length, "the customers made are counted");
  assert.ok(Number(await card.locator("[data-kind=leads]").textContent()) >= 1, "the lead is counted");
  await everyLanguage(page, "admin-employee-dry-run", (p) => p.locator("[data-kind=customers]").waitFor());

  // Confirmed: deactivated, and the records pass to the successor.
  await card.getByRole("button", { name: "Deactivate" }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Deactivate" }).click();
  await page.locator("[data-testid=employee-status]", { hasText: "Deactivated" }).waitFor();
  const { employee: after } = await rest(admin, "GET", `/v1/employees/${leaver.id}`);
  assert.equal(after.status, "EMPLOYEE_STATUS_DEACTIVATED");
  for (const c of made) {
    await eventually(`customer ${c.id} handed over`, async () => (await rest(admin, "GET", `/v1/customers/${c.id}`)).customer.ownerId === successor.id);
  }
  await eventually("the lead handed over", async () => (await rest(admin, "GET", `/v1/leads/${lead.id}`)).lead.ownerId === successor.id);
  await page.context().close();
});

test("departments: create one, the service refuses deleting one with employees", async () => {
  const admin = await adminToken();
  const suffix = unique();
  const { departments } = await rest(admin, "GET", "/v1/departments");
  const top = departments.find((d) => !d.parentId) ?? departments[0];
  const name = `E2E dept ${suffix}`;
  // Made before signing in, so the console's directory (the manager picker) holds them.
  const member = await newEmployee(admin, { roles: ["salesperson"], displayName: `Member ${suffix}` });

  const page = await newPage("en-US");
  await signIn(page, "admin", adminPassword);
  await page.getByRole("menuitem", { name: "Departments" }).click();
  await page.getByRole("button", { name: "New department" }).click();
  await page.locator("#department_name").fill(name);
  await pick(page, "department_parentId", top.name, top.name);
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await page.getByRole("cell", { name, exact: true }).waitFor();
  const { departments: now } = await rest(admin, "GET", "/v1/departments");
  const created = now.find((d) => d.name === name);
  assert.equal(created?.parentId, top.id, "created under the top department");

  // With an employee in it, deleting is refused and the service says why.
  await rest(admin, "PATCH", `/v1/employees/${member.id}?updateMask=departmentId`, { id: member.id, departmentId: created.id, etag: (await rest(admin, "GET", `/v1/employees/${member.id}`)).employee.etag });
  await page.getByRole("button", { name: `Delete ${name}` }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Delete" }).click();
  await page.getByRole("alert").waitFor();
  const { departments: still } = await rest(admin, "GET", "/v1/departments");
  assert.ok(still.some((d) => d.id === created.id), "the department is still there");
  await everyLanguage(page, "admin-departments", (p) => p.getByRole("cell", { name, exact: true }).waitFor());

  // Renamed, with the member as its manager (shown by name).
  const renamed = `${name} renamed`;
  await page.getByRole("button", { name: `Edit ${name}` }).click();
  await page.locator("#department_name").fill(renamed);
  await pick(page, "department_managerId", member.displayName, `${member.displayName} (${member.login})`);
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  const row = page.getByRole("row").filter({ has: page.getByRole("cell", { name: renamed, exact: true }) });
  await row.getByRole("cell", { name: member.displayName, exact: true }).waitFor();
  const { departments: edited } = await rest(admin, "GET", "/v1/departments");
  const after = edited.find((d) => d.id === created.id);
  assert.equal(after.name, renamed);
  assert.equal(after.managerId, member.id);
  await page.context().close();
});

test("roles: a custom role with a permission and a data scope, then deleted", async () => {
  const admin = await adminToken();
  const name = `e2e_role_${unique()}`;
  const page = await newPage("en-US");
  await signIn(page, "admin", adminPassword);
  await page.getByRole("menuitem", { name: "Roles" }).click();
  await page.getByRole("cell", { name: /^sales_manager/ }).waitFor();
  await page.getByRole("button", { name: "New role" }).click();
  await page.locator("#role_name").fill(name);
  await page.locator("#role_description").fill("Reads leads of the department");
  await pick(page, "role_permissions", "sales.lead.read", "sales.lead.read", { multiple: true });
  await page.getByRole("button", { name: "Add a scope" }).click();
  await pick(page, "role_scopes_0_service", "sales", "sales");
  await page.locator("#role_scopes_0_scope").click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option[title="Department"]').click();
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await page.getByRole("cell", { name: new RegExp(`^${name}`) }).waitFor();
  const { roles } = await rest(admin, "GET", "/v1/roles");
  const role = roles.find((r) => r.name === name);
  assert.deepEqual(role?.permissions, ["sales.lead.read"]);
  assert.deepEqual(role?.scopes, [{ service: "sales", scope: "DATA_SCOPE_DEPARTMENT" }]);
  await everyLanguage(page, "admin-roles", (p) => p.getByRole("cell", { name: new RegExp(`^${name}`) }).waitFor());

  await page.getByRole("button", { name: `Delete ${name}` }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Delete" }).click();
  await page.getByRole("cell", { name: new RegExp(`^${name}`) }).waitFor({ state: "detached" });
  const { roles: left } = await rest(admin, "GET", "/v1/roles");
  assert.ok(!left.some((r) => r.name === name), "the role is gone");
  await page.context().close();
});
