// The sales screens in a real browser against a running suite, as a salesperson: a lead made
// through the form, a follow-up logged, the lead qualified and converted; the customer of the
// same name (made over REST first) is offered as a duplicate naming it and its owner, and the
// conversion goes onto it (or, renamed, makes a new customer, as the contract allows). On the
// pipeline board a deal is dragged to the next stage (the service agrees after a reload), and a
// move the activity rules refuse (an activity still open) puts the card back with the service's
// message. The opportunity page shows the activities in order and the move in
// the stage history. A project made of an approved, won deal gets a maintenance record and a
// document uploaded, downloaded and deleted. Every screen in each language (axe, screenshots).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { adminToken, everyLanguage, newEmployee, newPage, rest, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

/** Chooses `text` in the antd Select whose input has id `id`. */
async function pick(page, id, text) {
  await page.locator(`#${id}`).click();
  await page.locator(".ant-select-dropdown:visible .ant-select-item-option", { hasText: text }).first().click();
}

/**
 * Opens `path` inside the signed-in console without a reload (the session lives in memory
 * only): a history entry the router follows.
 */
async function visit(page, path) {
  await page.evaluate((to) => {
    window.history.pushState({}, "", to);
    window.dispatchEvent(new PopStateEvent("popstate"));
  }, path);
}

/** Waits until `check()` holds (polled), for state the service reaches after a click. */
async function eventually(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) assert.fail(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("a salesperson creates, follows up and converts a lead onto the duplicate customer it is offered", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const token = await tokenFor(seller.login, seller.password);
  const id = unique();
  const company = `杭州线索测试${id}有限公司`;
  const { customer: existing } = await rest(token, "POST", "/v1/customers", {
    customer: { kind: "CUSTOMER_KIND_COMPANY", name: company },
  });

  const page = await newPage("en-US");
  await signIn(page, seller.login, seller.password);
  await page.getByRole("menuitem", { name: "Leads" }).click();
  await page.locator("#lead-new").click();
  // An empty company name is refused on its field before anything is sent.
  await page.locator("#lead-save").click();
  await page.getByText("Required").first().waitFor();
  await page.locator("#new-lead_companyName").fill(company);
  // The service wants a way to reach the lead: its field violation shows on the contact field.
  await page.locator("#lead-save").click();
  await page.locator(".ant-form-item-explain-error", { hasText: "a lead needs a contact name" }).waitFor();
  await page.locator("#new-lead_contactName").fill("王经理");
  await page.locator("#new-lead_mobile").fill("13800138000");
  await pick(page, "new-lead_source", "Referral");
  await page.locator("#lead-save").click();
  await page.getByRole("heading", { name: company, exact: true }).waitFor();
  const leadId = new URL(page.url()).pathname.split("/").pop();

  // A follow-up with the next contact: the lead becomes CONTACTING, the next follow-up is set.
  await pick(page, "followup_method", "Phone");
  await page.locator("#followup_summary").fill(`首次电话沟通 ${id}`);
  await page.locator("#followup_nextContactTime").fill("2030-01-15T10:30");
  await page.locator("#followup-save").click();
  await page.getByText(`首次电话沟通 ${id}`).waitFor();
  await page.locator("#lead-status", { hasText: "Contacting" }).waitFor();
  const afterFollowUp = (await rest(token, "GET", `/v1/leads/${leadId}`)).lead;
  assert.equal(afterFollowUp.status, "LEAD_STATUS_CONTACTING");
  assert.ok(afterFollowUp.nextFollowUpTime?.startsWith("2030-01-15"), JSON.stringify(afterFollowUp));

  // Edited: only the changed field is sent (update mask), with the etag read.
  await page.locator("#lead-edit").click();
  await page.locator("#edit-lead_city").fill("杭州");
  await page.locator("#lead-edit-save").click();
  await page.getByText("杭州", { exact: true }).waitFor();
  assert.equal((await rest(token, "GET", `/v1/leads/${leadId}`)).lead.city, "杭州");

  // The list shows it with its owner by name; then the lead page in each language.
  await page.getByRole("link", { name: "Back" }).click();
  await page.locator("#lead-search-mine").fill(`线索测试${id}`);
  await page.getByRole("link", { name: company }).waitFor();
  await page.getByRole("cell", { name: seller.displayName }).first().waitFor();
  await everyLanguage(page, "leads", async (p) => p.getByRole("link", { name: company }).waitFor());
  // The lead pool: a pooled lead (made over REST) is claimed from its tab.
  const pooledName = `池中线索${id}`;
  const { lead: pooled } = await rest(token, "POST", "/v1/leads", { lead: { companyName: pooledName, contactName: "赵女士" }, ownerId: "pool", requestId: `p-${id}` });
  assert.equal(pooled.ownerId ?? "", "");
  await page.getByRole("tab", { name: "Lead pool" }).click();
  await page.locator("#lead-search-pool").fill(pooledName);
  const pooledRow = page.getByRole("row", { name: new RegExp(pooledName) });
  await pooledRow.getByRole("button", { name: "Claim" }).click();
  await eventually(async () => (await rest(token, "GET", `/v1/leads/${pooled.id}`)).lead.ownerId === seller.id, "the claimed lead is the seller's");
  await page.getByRole("tab", { name: "My leads" }).click();
  await page.getByRole("link", { name: company }).click();
  await page.getByRole("heading", { name: company, exact: true }).waitFor();
  await everyLanguage(page, "lead", async (p) => p.getByText(`首次电话沟通 ${id}`).waitFor());

  // Qualified, then converted with an opportunity: the customer exists, so it is offered.
  await page.getByRole("button", { name: "Mark as Qualified" }).click();
  await page.locator("#lead-status", { hasText: "Qualified" }).waitFor();
  await page.locator("#lead-convert").click();
  await page.locator("#convert_withOpportunity").check();
  await page.locator("#convert_subject").fill(`线索商机 ${id}`);
  await page.locator("#convert_expectedAmount").fill("88000");
  await page.locator("#convert-submit").click();
  const offer = page.locator("#lead-conversion");
  await offer.getByText(`A customer named ${company} already exists`).waitFor();
  await offer.getByRole("cell", { name: company }).waitFor();
  await offer.getByRole("cell", { name: seller.displayName }).waitFor();
  await everyLanguage(page, "lead-convert-duplicate", async (p) => p.locator("#lead-conversion table").getByRole("cell", { name: company }).waitFor());
  await offer.getByRole("button", { name: "Convert onto this customer" }).click();
  await offer.getByText("Converted onto the existing customer").waitFor();
  const converted = (await rest(token, "GET", `/v1/leads/${leadId}`)).lead;
  assert.equal(converted.status, "LEAD_STATUS_CONVERTED");
  assert.equal(converted.convertedCustomerId, existing.id, "converted onto the offered customer");
  assert.ok(converted.convertedOpportunityId, "with the opportunity asked for");
  await page.locator("#converted-opportunity").waitFor();
  await page.locator("#converted-customer").click();
  await page.waitForURL(`**/customers/${existing.id}`);

  // A second lead of the same company, converted as a new customer under another name.
  const { lead: second } = await rest(token, "POST", "/v1/leads", { lead: { companyName: company, contactName: "李工" }, requestId: `b-${id}` });
  await rest(token, "POST", `/v1/leads/${second.id}:setStatus`, { status: "LEAD_STATUS_QUALIFIED" });
  await visit(page, `/leads/${second.id}`);
  await page.getByRole("heading", { name: company, exact: true }).waitFor();
  await page.locator("#lead-convert").click();
  await page.locator("#convert-submit").click();
  await page.locator("#lead-conversion").getByText(`A customer named ${company} already exists`).waitFor();
  const renamed = `${company}（华东分公司）`;
  await page.locator("#convert-new-name").fill(renamed);
  await page.getByRole("button", { name: "Create a new customer" }).click();
  await page.getByText("Converted into a new customer").waitFor();
  const made = (await rest(token, "GET", `/v1/leads/${second.id}`)).lead;
  assert.equal(made.status, "LEAD_STATUS_CONVERTED");
  assert.notEqual(made.convertedCustomerId, existing.id);
  const { customer: fresh } = await rest(token, "GET", `/v1/customers/${made.convertedCustomerId}`);
  assert.equal(fresh.name, renamed);
  await page.context().close();
});

test("the pipeline board moves a dragged deal, puts a refused one back, and the deal's page shows it", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const token = await tokenFor(seller.login, seller.password);
  const id = unique();
  const { customer } = await rest(token, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: `看板测试${id}公司` } });
  const { pipelines } = await rest(token, "GET", "/v1/pipelines");
  const pipeline = pipelines.find((p) => p.isDefault) ?? pipelines[0];
  const [first, second] = pipeline.stages;
  const deal = async (subject, amount) =>
    (
      await rest(token, "POST", "/v1/opportunities", {
        opportunity: { subject, customerId: customer.id, expectedAmount: { currencyCode: "CNY", amount } },
        requestId: `${subject}`,
      })
    ).opportunity;
  const moved = await deal(`拖动商机 ${id}`, "12345.60");
  const refused = await deal(`冲突商机 ${id}`, "500");
  assert.equal(moved.stageId, first.id);

  const page = await newPage("en-US");
  // The session lives in memory only: a reload signs in again.
  const openBoard = async () => {
    await signIn(page, seller.login, seller.password);
    await page.getByRole("menuitem", { name: "Pipeline" }).click();
  };
  await openBoard();
  const column = (stage) => page.locator(`section[data-stage="${stage.id}"]`);
  const card = (o) => page.locator(`[data-deal="${o.id}"]`);
  await column(first).locator(`[data-deal="${moved.id}"]`).waitFor();
  // The heading counts the seller's two deals and sums them as money.
  await column(first).getByText("Deals: 2 · CN¥12,845.60").waitFor();
  await card(moved).getByText(seller.displayName).waitFor();

  await card(moved).dragTo(column(second));
  await column(second).locator(`[data-deal="${moved.id}"]`).waitFor();
  await eventually(async () => (await rest(token, "GET", `/v1/opportunities/${moved.id}`)).opportunity.stageId === second.id, "the service has the move");
  await page.reload();
  await openBoard();
  await column(second).locator(`[data-deal="${moved.id}"]`).waitFor();

  // The activity rules: the stage follows the completed activities, so while one is open a
  // move is refused; the card goes back with the service's message.
  const { activity: open } = await rest(token, "POST", `/v1/opportunities/${refused.id}/activities`, {
    method: "ACTIVITY_METHOD_PHONE",
    summary: `待回电 ${id}`,
  });
  await card(refused).dragTo(column(second));
  await page.getByRole("alert").filter({ hasText: "is open: complete or delete it first" }).waitFor();
  await column(first).locator(`[data-deal="${refused.id}"]`).waitFor();
  assert.equal(await column(second).locator(`[data-deal="${refused.id}"]`).count(), 0, "the refused card is back");
  assert.equal((await rest(token, "GET", `/v1/opportunities/${refused.id}`)).opportunity.stageId, first.id);
  await rest(token, "POST", `/v1/activities/${open.id}:complete`, {});
  // The keyboard way, once the activity is done: "Move to…" on the card (after a reload).
  await page.reload();
  await openBoard();
  await card(refused).getByRole("button", { name: `Move ${refused.subject} to…` }).click();
  await page.locator(".ant-dropdown:visible .ant-dropdown-menu-item", { hasText: second.name }).click();
  await column(second).locator(`[data-deal="${refused.id}"]`).waitFor();
  await eventually(async () => (await rest(token, "GET", `/v1/opportunities/${refused.id}`)).opportunity.stageId === second.id, "the menu move is saved");
  await everyLanguage(page, "pipeline", async (p) => p.locator(`[data-deal="${moved.id}"]`).waitFor());

  // The opportunity page: activities in order, the move in the stage history.
  await rest(token, "POST", `/v1/opportunities/${moved.id}/activities`, { method: "ACTIVITY_METHOD_PHONE", summary: `第一次电话 ${id}` });
  await rest(token, "POST", `/v1/opportunities/${moved.id}/activities`, { method: "ACTIVITY_METHOD_VISIT", summary: `第二次拜访 ${id}` });
  await card(moved).getByRole("link", { name: moved.subject }).click();
  await page.getByRole("heading", { name: moved.subject }).waitFor();
  // The board's move is the first activity (completed), then the two in the order made.
  const rows = page.locator(".ant-tabs-tabpane-active tbody tr");
  await rows.nth(2).getByText(`第二次拜访 ${id}`).waitFor();
  assert.match(await rows.nth(0).innerText(), new RegExp(`Moved to ${second.name}`));
  assert.match(await rows.nth(1).innerText(), new RegExp(`第一次电话 ${id}`));
  await everyLanguage(page, "opportunity", async (p) => p.getByText(`第二次拜访 ${id}`).waitFor());
  // Edited through the drawer: the new amount is the service's.
  await page.locator("#opportunity-edit").click();
  await page.locator("#opp_expectedAmount").fill("20000");
  await page.locator("#opportunity-edit-save").click();
  await page.getByText("CN¥20,000.00").first().waitFor();
  assert.equal((await rest(token, "GET", `/v1/opportunities/${moved.id}`)).opportunity.expectedAmount.amount, "20000.00");
  await page.getByRole("tab", { name: "Stage history" }).click();
  const history = page.locator(".ant-tabs-tabpane-active");
  await history.getByRole("cell", { name: second.name }).waitFor();
  await history.getByRole("cell", { name: first.name }).waitFor();
  await history.getByRole("cell", { name: seller.displayName }).first().waitFor();
  await page.context().close();
});

test("a project of a won deal gets maintenance and a document uploaded, downloaded and deleted", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const token = await tokenFor(seller.login, seller.password);
  const id = unique();
  const { customer } = await rest(token, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: `项目测试${id}公司` } });
  const { opportunity } = await rest(token, "POST", "/v1/opportunities", {
    opportunity: { subject: `实施项目 ${id}`, customerId: customer.id, expectedAmount: { currencyCode: "CNY", amount: "99000" } },
  });
  await rest(token, "POST", `/v1/opportunities/${opportunity.id}:setStatus`, { status: "OPPORTUNITY_STATUS_WON" });
  // Approval is a manager's (the administrator here).
  await rest(admin, "POST", `/v1/opportunities/${opportunity.id}:audit`, { audited: true });

  const page = await newPage("en-US");
  await signIn(page, seller.login, seller.password);
  await page.getByRole("menuitem", { name: "Projects" }).click();
  await page.locator("#project-new").click();
  await pick(page, "project_opportunityId", opportunity.subject);
  await page.locator("#project-save").click();
  await page.getByRole("heading", { name: opportunity.subject }).waitFor();
  const projectId = new URL(page.url()).pathname.split("/").pop();

  await pick(page, "record_method", "Visit");
  await page.locator("#record_summary").fill(`上门安装调试 ${id}`);
  await page.locator("#record-save").click();
  await page.getByRole("cell", { name: `上门安装调试 ${id}` }).waitFor();

  await page.getByRole("tab", { name: "Documents" }).click();
  const content = `实施方案 ${id}\n`;
  await page.locator("#document-description").fill("方案");
  await page.locator("input[type=file]").setInputFiles({ name: "plan.txt", mimeType: "text/plain", buffer: Buffer.from(content) });
  await page.getByRole("cell", { name: "plan.txt" }).waitFor();
  const { documents } = await rest(token, "GET", `/v1/projects/${projectId}/documents`);
  assert.equal(documents.length, 1);
  assert.equal(documents[0].sizeBytes, String(Buffer.byteLength(content)));
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download" }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), "plan.txt");
  assert.equal(await readFile(await download.path(), "utf8"), content);
  await everyLanguage(page, "project", async (p) => p.getByRole("cell", { name: "plan.txt" }).waitFor());
  await page.getByRole("button", { name: "Delete" }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Delete" }).click();
  await page.getByText("No documents").waitFor();
  assert.equal((await rest(token, "GET", `/v1/projects/${projectId}/documents`)).documents?.length ?? 0, 0);

  await page.locator("#project-edit").click();
  await page.locator("#project-edit_actualSales").fill("95000");
  await page.locator("#project-edit-save").click();
  await page.getByText("CN¥95,000.00").first().waitFor();
  assert.equal((await rest(token, "GET", `/v1/projects/${projectId}`)).project.actualSales.amount, "95000.00");

  await page.getByRole("link", { name: "Back" }).click();
  await page.getByRole("link", { name: opportunity.subject }).waitFor();
  await everyLanguage(page, "projects", async (p) => p.getByRole("link", { name: opportunity.subject }).waitFor());
  await page.context().close();
});
