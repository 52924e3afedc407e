// A salesperson's day, the public pool and importing customers, in a real browser against a
// running suite. Data is set up over REST as a script would; each screen then goes through
// every language (axe-checked and photographed).
//
// - My day: a customer whose follow-up is next due tomorrow is in #day-tomorrow; one whose next
//   follow-up passed (a follow-up recorded three days ago, next due two days ago) is in
//   #day-overdue.
// - The pool: a customer the administrator released is listed, claimed, gone from the list, the
//   caller's over REST, and its page is reached; claiming back a customer one released oneself
//   shows the service's cooldown refusal.
// - Import: a CSV with Chinese headers (mapped to fields on screen), three good rows and one
//   with a bad phone: the counts, the bad row's number and reason in the errors table, and the
//   good rows found by ListCustomers.

import { test } from "node:test";
import assert from "node:assert/strict";
import { adminToken, base, everyLanguage, newEmployee, newPage, rest, shots, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

async function signInAs(page, who) {
  await page.goto(base);
  await page.locator("#login").fill(who.login);
  await page.locator("#password").fill(who.password);
  await page.locator("button[type=submit]").click();
  await page.locator("nav [role=menu]").waitFor();
}

/** Tomorrow at noon, in the zone the browser (and this process) runs in. */
function tomorrowNoon() {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(12, 0, 0, 0);
  return d;
}

test("my day lists tomorrow's and overdue follow-ups", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const token = await tokenFor(seller.login, seller.password);
  const id = unique();
  const tomorrowName = `明日跟进${id}有限公司`;
  const overdueName = `Overdue ${id} S.L.`;
  const { customer: tomorrow } = await rest(token, "POST", "/v1/customers", {
    customer: { kind: "CUSTOMER_KIND_COMPANY", name: tomorrowName },
  });
  await rest(token, "POST", `/v1/customers/${tomorrow.id}/followUps`, {
    method: "FOLLOW_UP_METHOD_PHONE",
    summary: "Asked for a quote",
    nextContactTime: tomorrowNoon().toISOString(),
  });
  const { customer: overdue } = await rest(token, "POST", "/v1/customers", {
    customer: { kind: "CUSTOMER_KIND_COMPANY", name: overdueName },
  });
  // The next time must come after the follow-up's own time: a follow-up recorded in the past.
  await rest(token, "POST", `/v1/customers/${overdue.id}/followUps`, {
    method: "FOLLOW_UP_METHOD_VISIT",
    summary: "Visited",
    occurTime: new Date(Date.now() - 3 * 86_400_000).toISOString(),
    nextContactTime: new Date(Date.now() - 2 * 86_400_000).toISOString(),
  });
  // A contact whose birthday is today (month and day only).
  const today = new Date();
  const birthday = `--${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
  const birthdayName = `Cumple ${id} S.A.`;
  await rest(token, "POST", "/v1/customers", {
    customer: { kind: "CUSTOMER_KIND_COMPANY", name: birthdayName, primaryContact: { name: `María ${id}`, birthday } },
  });
  // A lead followed up three days ago whose next follow-up was yesterday, and one due next week.
  const { lead } = await rest(token, "POST", "/v1/leads", { lead: { companyName: `线索${id}科技`, contactName: "赵六" } });
  await rest(token, "POST", `/v1/leads/${lead.id}/followUps`, {
    method: "ACTIVITY_METHOD_PHONE",
    summary: "Left a message",
    occurTime: new Date(Date.now() - 3 * 86_400_000).toISOString(),
    nextContactTime: new Date(Date.now() - 86_400_000).toISOString(),
  });
  const { lead: later } = await rest(token, "POST", "/v1/leads", { lead: { companyName: `Later lead ${id}`, contactName: "Luis" } });
  await rest(token, "POST", `/v1/leads/${later.id}/followUps`, {
    method: "ACTIVITY_METHOD_EMAIL",
    summary: "Sent the brochure",
    nextContactTime: new Date(Date.now() + 7 * 86_400_000).toISOString(),
  });

  const page = await newPage("en-US");
  await signInAs(page, seller);
  await page.getByRole("menuitem", { name: "My day" }).click();
  const dueLead = page.locator("#day-leads").getByRole("link", { name: `线索${id}科技` });
  await dueLead.waitFor();
  assert.equal(await dueLead.getAttribute("href"), `/leads/${lead.id}`);
  assert.equal(await page.locator("#day-leads").getByRole("link", { name: `Later lead ${id}` }).count(), 0);
  await page.locator("#day-birthdays").getByRole("link", { name: birthdayName }).waitFor();
  assert.match(await page.locator("#day-birthdays").innerText(), new RegExp(`María ${id}`));
  const inTomorrow = page.locator("#day-tomorrow").getByRole("link", { name: tomorrowName });
  const inOverdue = page.locator("#day-overdue").getByRole("link", { name: overdueName });
  await inTomorrow.waitFor();
  await inOverdue.waitFor();
  assert.equal(await page.locator("#day-today").getByRole("link", { name: tomorrowName }).count(), 0);
  assert.equal(await page.locator("#day-tomorrow").getByRole("link", { name: overdueName }).count(), 0);
  assert.equal(await inTomorrow.getAttribute("href"), `/customers/${tomorrow.id}`);
  // Every section a salesperson may see is there; the team switch is for managers only.
  for (const section of ["today", "overdue", "tomorrow", "not-contacted", "birthdays", "leads", "stuck"]) {
    await page.locator(`#day-${section}`).waitFor();
  }
  assert.equal(await page.getByRole("radio", { name: "My team" }).count(), 0);
  await everyLanguage(page, "day", async (p) => {
    await p.locator("#day-tomorrow").getByRole("link", { name: tomorrowName }).waitFor();
    await p.locator("#day-overdue").getByRole("link", { name: overdueName }).waitFor();
  });
  await page.context().close();
});

test("a manager switches my day between mine and the team's", async () => {
  const admin = await adminToken();
  const manager = await newEmployee(admin, { roles: ["sales_manager"] });
  const seller = await newEmployee(admin, { roles: ["salesperson"], managerId: manager.id });
  const token = await tokenFor(seller.login, seller.password);
  const name = `Team ${unique()} GmbH`;
  const { customer } = await rest(token, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name } });
  await rest(token, "POST", `/v1/customers/${customer.id}/followUps`, {
    method: "FOLLOW_UP_METHOD_PHONE",
    summary: "Called",
    nextContactTime: tomorrowNoon().toISOString(),
  });
  const page = await newPage("en-US");
  await signInAs(page, manager);
  await page.getByRole("menuitem", { name: "My day" }).click();
  await page.locator("#day-tomorrow").waitFor();
  await page.getByText("My team").click();
  await page.locator("#day-tomorrow").getByRole("link", { name }).waitFor();
  await page.getByText("Mine", { exact: true }).click();
  await page.locator("#day-tomorrow .day-count").waitFor();
  assert.equal(await page.locator("#day-tomorrow").getByRole("link", { name }).count(), 0);
  await page.context().close();
});

test("my day shows only the sections the permissions allow", async () => {
  const admin = await adminToken();
  // A sales assistant reads customers and follow-ups but no leads or deals, and has no team view.
  const assistant = await newEmployee(admin, { roles: ["sales_assistant"] });
  const page = await newPage("en-US");
  await signInAs(page, assistant);
  await page.getByRole("menuitem", { name: "My day" }).click();
  await page.locator("#day-tomorrow .day-count").waitFor();
  await page.locator("#day-birthdays").waitFor();
  assert.equal(await page.locator("#day-leads").count(), 0);
  assert.equal(await page.locator("#day-stuck").count(), 0);
  assert.equal(await page.getByRole("radio", { name: "My team" }).count(), 0);
  await page.context().close();
});

test("a salesperson claims a customer from the public pool", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const token = await tokenFor(seller.login, seller.password);
  const id = unique();
  const name = `公海客户${id}有限公司`;
  const { customer } = await rest(admin, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name } });
  await rest(admin, "POST", `/v1/customers/${customer.id}:release`, { note: "Released for the e2e test" });
  // One the salesperson released: claiming it back is refused for the cooldown.
  const mineName = `Released ${id} Ltd`;
  const { customer: mine } = await rest(token, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: mineName } });
  await rest(token, "POST", `/v1/customers/${mine.id}:release`, { note: "Not interested" });

  const page = await newPage("en-US");
  await signInAs(page, seller);
  await page.getByRole("menuitem", { name: "Public pool" }).click();
  await page.locator("#pool-policy").waitFor();
  await page.locator("#pool-search").pressSequentially(`${id}`, { delay: 20 });
  const row = page.locator("#pool-table").getByRole("row").filter({ hasText: name });
  await row.waitFor();
  await page.locator("#pool-table").getByRole("row").filter({ hasText: mineName }).waitFor();
  await everyLanguage(page, "pool", async (p) => p.locator("#pool-table").getByRole("row").filter({ hasText: name }).waitFor());

  // The cooldown: the service's message, and the row stays.
  await page.getByRole("button", { name: `Claim ${mineName}` }).click();
  await page.locator("#pool-refusal").getByRole("alert").waitFor();
  assert.match(await page.locator("#pool-refusal").innerText(), /released this customer/);

  await page.getByRole("button", { name: `Claim ${name}` }).click();
  await page.locator("#pool-claimed").waitFor();
  await row.waitFor({ state: "detached" });
  const { customer: after } = await rest(token, "GET", `/v1/customers/${customer.id}`);
  assert.equal(after.ownerId, seller.id, "the claimed customer is the caller's");
  await page.locator("#pool-claimed").getByRole("link").click();
  await page.waitForURL(`**/customers/${customer.id}`);
  await page.getByRole("main").first().waitFor();
  await page.context().close();
});

test("a CSV import reports its counts and the refused row", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const token = await tokenFor(seller.login, seller.password);
  const id = unique();
  const good = [`导入甲${id}有限公司`, `Import B ${id} S.A.`, `导入丙${id}, "总部"`];
  const bad = `导入坏${id}公司`;
  const csv =
    "\ufeff客户名称,手机,联系人,备注\r\n" +
    `${good[0]},13800138000,张三,重点客户\r\n` +
    `${good[1]},,Ana,\r\n` +
    `${bad},not-a-phone,李四,\r\n` +
    `"${good[2].replace(/"/g, '""')}",,王五,"多个, 逗号"\r\n`;

  const page = await newPage("en-US");
  await signInAs(page, seller);
  await page.getByRole("menuitem", { name: "Import" }).click();
  await page.locator("input[type=file]").setInputFiles({ name: `customers-${id}.csv`, mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.locator("#import-preview").getByRole("cell", { name: good[0] }).waitFor();
  // The Chinese headers were mapped to the fields.
  assert.match(await page.locator("#import-mapping").innerText(), /\(name\)[\s\S]*\(mobile\)[\s\S]*\(contact\.name\)[\s\S]*\(remark\)/);
  await everyLanguage(page, "import-setup", async (p) => p.locator("#import-preview").getByRole("cell", { name: good[0] }).waitFor());

  await page.locator("#import-start").click();
  await page.locator("#import-result").waitFor();
  const counts = await page.locator("#import-counts").innerText();
  assert.match(counts, /3 created/);
  assert.match(counts, /1 refused/);
  assert.equal(await page.locator("#import-rows-read").innerText(), "4");
  const errorRow = page.locator("#import-errors").getByRole("row").filter({ hasText: "mobile" });
  await errorRow.first().waitFor();
  assert.equal(await errorRow.count(), 1);
  assert.match(await errorRow.innerText(), /^3\s+Mobile \(mobile\)\s+must be a mobile number/);
  await everyLanguage(page, "import", async (p) => p.locator("#import-errors").getByRole("row").filter({ hasText: "mobile" }).waitFor());

  // The good rows are the salesperson's customers; the bad one is not there.
  for (const name of good) {
    const { customers } = await rest(token, "GET", `/v1/customers?query=${encodeURIComponent(name)}`);
    const found = customers.find((c) => c.name === name);
    assert.ok(found, `${name} was imported`);
    assert.equal(found.ownerId, seller.id);
  }
  const { customers: none } = await rest(token, "GET", `/v1/customers?query=${encodeURIComponent(bad)}`);
  assert.equal(none.length, 0);
  await page.context().close();
});

test("a running import shows its progress and stops on Cancel", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const id = unique();
  // Large enough to take a few seconds: the service writes batches as the file arrives.
  const rows = 20_000;
  let csv = "name,remark\n";
  for (let i = 0; i < rows; i++) csv += `Bulk ${id} ${i},${"r".repeat(60)}\n`;

  const page = await newPage("en-US");
  await signInAs(page, seller);
  await page.getByRole("menuitem", { name: "Import" }).click();
  await page.locator("input[type=file]").setInputFiles({ name: `bulk-${id}.csv`, mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.locator("#import-preview").getByRole("cell", { name: `Bulk ${id} 0` }).waitFor();
  await page.locator("#import-start").click();
  // The job is polled: once it is known, Cancel is offered.
  const cancel = page.locator("#import-cancel");
  await page.waitForFunction(() => {
    const b = document.querySelector("#import-cancel");
    return b instanceof HTMLButtonElement && !b.disabled && document.querySelector("#import-rows-read")?.textContent !== "0";
  });
  await page.screenshot({ path: `${shots}/import-running-en.png`, fullPage: true });
  await cancel.click();
  await page.locator("#import-result").waitFor({ timeout: 60_000 });
  assert.match(await page.locator("#import-result").innerText(), /Import cancelled/);
  const read = Number((await page.locator("#import-rows-read").innerText()).replace(/\D/g, ""));
  assert.ok(read > 0 && read < rows, `stopped part way (${read} of ${rows} rows read)`);
  await page.context().close();
});
