// The customers screens in a real browser against a running suite: a salesperson searches,
// creates a customer through the form and lands on its page; typing the same name again warns
// of the duplicate, naming the first customer and its owner; a follow-up logged for tomorrow
// 10:00 shows in the timeline and on "My day"; an edit shows in the change history; a contact is
// added; the search is exported as CSV; a transfer moves the customer to a colleague, who sees
// the owner history entry, while the first salesperson now gets the service's refusal. Each
// screen is checked with axe and photographed in each language. Then: an edit made on a stale
// etag is refused on screen and the customer reloaded; a contact is added, edited and deleted;
// a release to the pool shows in the owner history; a delete (confirmed) returns to the list.
//
//   CRM_GATEWAY_URL=http://127.0.0.1:5174 CRM_ADMIN_PASSWORD=... node --test e2e/customers.browser.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { adminToken, everyLanguage, newEmployee, newPage, rest, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

const OWNER = { en: "Owner", zh: "负责人", es: "Responsable" };
const DUPLICATE = { en: "Possible duplicates", zh: "可能重复", es: "Posibles duplicados" };
const LOG = { en: "Log a follow-up", zh: "记录跟进", es: "Registrar un seguimiento" };
const HISTORY = { en: "Change history", zh: "修改记录", es: "Historial de cambios" };
const CONTACTS = { en: "Add contact", zh: "添加联系人", es: "Añadir contacto" };

/** The date as the DatePicker's input takes it (YYYY-MM-DD HH:mm), local time. */
function pickerText(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * Opens `path` inside the console, as a link would (a page load would lose the session, which
 * lives in memory only).
 */
async function go(page, path) {
  await page.evaluate((to) => {
    window.history.pushState({}, "", to);
    window.dispatchEvent(new PopStateEvent("popstate"));
  }, path);
}

/** Chooses `option` in the antd Select whose input has id `id`. */
async function choose(page, id, option) {
  await page.locator(`#${id}`).click();
  await page.locator(".ant-select-dropdown:visible .ant-select-item-option", { hasText: option }).first().click();
}

test("a salesperson creates, follows up, edits and transfers a customer", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const colleague = await newEmployee(admin, { roles: ["salesperson"] });
  const id = unique();
  const name = `杭州测试${id}科技有限公司`;

  const page = await newPage("en-US");
  await signIn(page, seller.login, seller.password);
  await page.getByRole("menuitem", { name: "Customers" }).click();

  // Searching: nothing yet by that name.
  await page.locator("#customer-search").pressSequentially(`测试${id}`, { delay: 20 });
  await page.getByText("No customers match").waitFor();

  // A new customer through the form; saving opens its page.
  await page.getByRole("button", { name: "New customer" }).click();
  await page.locator("#customer_name").fill(name);
  await page.locator("#customer_phone").fill("0571 8888 1234");
  await page.locator("#customer_region_city").fill("杭州");
  await choose(page, "customer_levelCode", "B");
  await choose(page, "customer_sourceCode", "Exhibition");
  await page.locator("#customer_contact_name").fill("张三");
  await page.locator("#customer_contact_mobile").fill("13600112233");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(/\/customers\/[0-9a-f-]{36}/);
  const customerPath = new URL(page.url()).pathname;
  await page.locator("#customer-name", { hasText: name }).waitFor();
  await page.locator("#customer-details", { hasText: seller.displayName }).waitFor();

  // A second new customer with the same name: the warning names the first and its owner.
  await go(page, "/customers/new");
  await page.locator("#customer_name").pressSequentially(name, { delay: 15 });
  const warning = page.locator("#duplicate-warning");
  await warning.filter({ hasText: name }).waitFor();
  await warning.filter({ hasText: seller.displayName }).waitFor();
  assert.equal(await warning.getByRole("link").first().getAttribute("href"), customerPath);
  await everyLanguage(page, "customer-new-duplicate", async (p, language) => {
    await p.locator("#duplicate-warning", { hasText: DUPLICATE[language.code] }).waitFor();
  });
  // Saving anyway: the service's refusal is shown on the name.
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator(".ant-form-item-explain-error", { hasText: `Already exists: ${name}, owned by ${seller.displayName}` }).waitFor();

  // The list: found by part of the name, owner by name; the search exports as CSV.
  await page.getByRole("menuitem", { name: "Customers" }).click();
  await page.locator("#customer-search").pressSequentially(`测试${id}`, { delay: 20 });
  const row = page.getByRole("row", { name: new RegExp(name) });
  await row.filter({ hasText: seller.displayName }).waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export" }).click()]);
  const csv = await readFile(await download.path(), "utf8");
  assert.match(csv, new RegExp(name), "the export holds the searched customer");
  assert.equal(csv.trim().split("\n").length, 2, "the export holds the search only (header and one row)");
  await everyLanguage(page, "customers-list", async (p, language) => {
    await p.getByRole("columnheader", { name: OWNER[language.code] }).waitFor();
    await p.getByRole("cell", { name }).waitFor();
  });

  // A follow-up with the next one tomorrow at 10:00: it shows in the timeline.
  await row.getByRole("link", { name }).click();
  await page.locator("#customer-name", { hasText: name }).waitFor();
  const now = new Date();
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 10, 0);
  const summary = `电话沟通报价 ${id}`;
  await choose(page, "followUp_method", "Phone call");
  await page.locator("#followUp_summary").fill(summary);
  await page.locator("#followUp_nextContactTime").click();
  await page.locator("#followUp_nextContactTime").fill(pickerText(tomorrow));
  await page.locator(".ant-picker-dropdown:visible .ant-picker-ok button").click();
  assert.equal(await page.locator("#followUp_nextContactTime").inputValue(), pickerText(tomorrow));
  await page.locator("#follow-up-save").click();
  const entry = page.locator("#follow-up-timeline .follow-up", { hasText: summary });
  await entry.waitFor();
  await entry.filter({ hasText: seller.displayName }).waitFor();
  const nextText = await entry.innerText();
  assert.match(nextText, /Next follow-up: .*10:00/, "the timeline shows the next follow-up time");
  await everyLanguage(page, "customer-follow-ups", async (p, language) => {
    await p.getByText(LOG[language.code]).first().waitFor();
    await p.locator("#follow-up-timeline .follow-up", { hasText: summary }).waitFor();
  });

  // My day lists it under tomorrow.
  await page.getByRole("menuitem", { name: "My day" }).click();
  await page.locator("#day-tomorrow").getByRole("link", { name }).waitFor();

  // An edit shows in the change history.
  await go(page, customerPath);
  await page.locator("#customer-edit").click();
  const remark = `展会上认识 ${id}`;
  await page.locator("#editCustomer_remark").fill(remark);
  await page.locator("#customer-save").click();
  await page.locator("#customer-details", { hasText: remark }).waitFor();
  await page.getByRole("tab", { name: "History" }).click();
  await page.locator("#change-history tr", { hasText: remark }).filter({ hasText: "Remarks" }).waitFor();
  await everyLanguage(page, "customer-history", async (p, language) => {
    await p.getByText(HISTORY[language.code]).waitFor();
    await p.locator("#change-history tr", { hasText: remark }).waitFor();
  });

  // A contact added.
  await page.getByRole("tab", { name: "Contacts" }).click();
  await page.locator("#contact-add").click();
  await page.locator("#contact_name").fill("李四");
  await page.locator("#contact_mobile").fill("13700112233");
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await page.getByRole("cell", { name: "李四", exact: true }).waitFor();
  await everyLanguage(page, "customer-contacts", async (p, language) => {
    await p.getByRole("button", { name: CONTACTS[language.code] }).waitFor();
    await p.getByRole("cell", { name: "李四", exact: true }).waitFor();
  });

  // Transferred to a colleague: the customer leaves the salesperson's reach.
  await page.locator("#customer-transfer").click();
  await page.locator("#transfer_toOwnerId").click();
  await page.locator("#transfer_toOwnerId").fill(colleague.displayName);
  await page.locator(".ant-select-dropdown:visible .ant-select-item-option", { hasText: colleague.displayName }).click();
  await page.locator("#transfer_note").fill("客户在杭州，由同事跟进");
  await page.locator(".ant-modal").getByRole("button", { name: "Transfer" }).click();
  await page.waitForURL(/\/customers$/);
  await page.getByText(`Transferred to ${colleague.displayName}`).first().waitFor();
  // Its page now shows the service's refusal, not a blank screen.
  await go(page, customerPath);
  await page.getByRole("alert").waitFor();
  await page.context().close();

  // The colleague sees the owner history entry: from the salesperson to them, why, by whom.
  const other = await newPage("en-US");
  await signIn(other, colleague.login, colleague.password);
  await go(other, `${customerPath}?tab=history`);
  const change = other.locator("#owner-history tr", { hasText: "Transferred" });
  await change.filter({ hasText: seller.displayName }).filter({ hasText: colleague.displayName }).waitFor();
  await change.filter({ hasText: "客户在杭州，由同事跟进" }).waitFor();
  await other.locator("#customer-details", { hasText: colleague.displayName }).waitFor();
  await other.context().close();
});

test("a stale edit is refused on screen; a customer is released to the pool and another deleted", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const token = await tokenFor(seller.login, seller.password);
  const id = unique();
  const { customer: kept } = await rest(token, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: `苏州释放${id}有限公司` } });
  const { customer: doomed } = await rest(token, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: `苏州删除${id}有限公司` } });

  const page = await newPage("en-US");
  await signIn(page, seller.login, seller.password);
  await go(page, `/customers/${kept.id}`);
  await page.locator("#customer-name", { hasText: kept.name }).waitFor();

  // Someone else changes the customer while the drawer is open: the save is refused, said so.
  await page.locator("#customer-edit").click();
  await rest(token, "PATCH", `/v1/customers/${kept.id}?updateMask=remark`, { etag: kept.etag, remark: "changed elsewhere" });
  await page.locator("#editCustomer_remark").fill("my change");
  await page.locator("#customer-save").click();
  await page.locator(".ant-drawer").getByRole("alert").filter({ hasText: "changed by someone else" }).waitFor();
  await page.locator(".ant-drawer").getByRole("button", { name: "Reload the customer" }).click();
  await page.locator("#customer-details", { hasText: "changed elsewhere" }).waitFor();

  // A contact added, edited (the first one is primary), then deleted.
  await page.getByRole("tab", { name: "Contacts" }).click();
  await page.locator("#contact-add").click();
  await page.locator("#contact_name").fill("王五");
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  const contactRow = page.getByRole("row", { name: /王五/ });
  await contactRow.filter({ hasText: "Primary" }).waitFor();
  await contactRow.getByRole("button", { name: "Edit 王五" }).click();
  await page.locator("#contact_title").fill("采购经理");
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await contactRow.filter({ hasText: "采购经理" }).waitFor();
  await contactRow.getByRole("button", { name: "Delete 王五" }).click();
  await page.locator(".ant-popover").getByRole("button", { name: "Delete" }).click();
  await page.getByText("No contacts yet").waitFor();

  // Released to the pool with a reason: the owner history says so.
  await page.locator("#customer-release").click();
  await page.locator("#release_note").fill("暂无需求");
  await page.locator(".ant-modal").getByRole("button", { name: "Release to pool" }).click();
  await page.getByRole("tab", { name: "History" }).click();
  await page.locator("#owner-history tr", { hasText: "Released to the pool" }).filter({ hasText: "暂无需求" }).waitFor();
  await page.locator("#customer-details", { hasText: "Public pool" }).waitFor();

  // Deleted after a confirmation: back to the list, which says so.
  await go(page, `/customers/${doomed.id}`);
  await page.locator("#customer-name", { hasText: doomed.name }).waitFor();
  await page.locator("#customer-delete").click();
  await page.locator(".ant-popover").getByRole("button", { name: "Delete" }).click();
  await page.waitForURL(/\/customers$/);
  await page.getByText(`${doomed.name} deleted`).waitFor();
  await rest(token, "GET", `/v1/customers/${doomed.id}`, undefined, 404);
  await page.context().close();
});
