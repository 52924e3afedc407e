// Reports, in a real browser against a running suite: a sales manager whose team (their own
// department, with a salesperson reporting to them) has opportunities in different stages sees
// the team's figures in the funnel (read from the chart's table and compared to what was made
// over REST); every report tab in each language (axe-checked and photographed).
//
//   CRM_ADMIN_PASSWORD=... node --test e2e/reports.browser.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { adminToken, everyLanguage, newEmployee, newPage, rest, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

/** The funnel table's rows as arrays of cell texts. */
async function tableRows(page, testId) {
  return page.locator(`[data-testid=${testId}] tr.ant-table-row`).evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent.trim())),
  );
}

test("a sales manager sees the team's funnel; every report in each language", async () => {
  const admin = await adminToken();
  const suffix = unique();
  // A department of its own, so the manager's scope (department tree) holds only this team.
  const { departments } = await rest(admin, "GET", "/v1/departments");
  const top = departments.find((d) => !d.parentId) ?? departments[0];
  const { department } = await rest(admin, "POST", "/v1/departments", { department: { name: `Reports team ${suffix}`, parentId: top.id } });
  const manager = await newEmployee(admin, { roles: ["sales_manager"], departmentId: department.id, displayName: `Manager ${suffix}` });
  const seller = await newEmployee(admin, { roles: ["salesperson"], departmentId: department.id, managerId: manager.id, displayName: `Seller ${suffix}` });

  // The salesperson's deals: two in the first stage, one in the third, one won.
  const sellerToken = await tokenFor(seller.login, seller.password);
  const { customer } = await rest(sellerToken, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: `报表测试${suffix}有限公司` } });
  const { pipelines } = await rest(sellerToken, "GET", "/v1/pipelines");
  const pipeline = pipelines.find((p) => p.isDefault) ?? pipelines[0];
  const [first, , third] = pipeline.stages;
  const deals = [
    { stage: first, amount: "1000.00" },
    { stage: first, amount: "2500.50" },
    { stage: third, amount: "4000.00" },
  ];
  for (const [i, d] of deals.entries()) {
    await rest(sellerToken, "POST", "/v1/opportunities", {
      opportunity: {
        subject: `Deal ${suffix} ${i}`,
        customerId: customer.id,
        stageId: d.stage.id,
        expectedAmount: { currencyCode: "CNY", amount: d.amount },
        plannedCloseDate: "2026-12-20",
      },
    });
  }
  const { opportunity: won } = await rest(sellerToken, "POST", "/v1/opportunities", {
    opportunity: { subject: `Won ${suffix}`, customerId: customer.id, expectedAmount: { currencyCode: "CNY", amount: "700.00" } },
  });
  await rest(sellerToken, "POST", `/v1/opportunities/${won.id}:setStatus`, { status: "OPPORTUNITY_STATUS_WON" });
  // The won deal, approved by the manager, becomes a project.
  const managerToken = await tokenFor(manager.login, manager.password);
  await rest(managerToken, "POST", `/v1/opportunities/${won.id}:audit`, { audited: true });
  await rest(sellerToken, "POST", "/v1/projects", { opportunityId: won.id });
  // Two leads, one disqualified.
  for (const n of [1, 2]) {
    const { lead } = await rest(sellerToken, "POST", "/v1/leads", { lead: { companyName: `报表线索${suffix}-${n}`, contactName: "张先生", source: "LEAD_SOURCE_REFERRAL" } });
    if (n === 2) await rest(sellerToken, "POST", `/v1/leads/${lead.id}:setStatus`, { status: "LEAD_STATUS_DISQUALIFIED", reason: "no budget" });
  }

  const page = await newPage("en-US");
  await signIn(page, manager.login, manager.password);
  await page.getByRole("menuitem", { name: "Reports" }).click();
  await page.locator("[data-testid=funnel-table] tr.ant-table-row").first().waitFor();
  await page.getByRole("img", { name: "Open opportunities per stage" }).waitFor();

  // The funnel: the team's counts and amounts per stage, as made.
  const money = (n) => new Intl.NumberFormat("en-US", { style: "currency", currency: "CNY" }).format(n);
  const rows = await tableRows(page, "funnel-table");
  const byStage = new Map(rows.map((r) => [r[0], r]));
  assert.deepEqual(rows.map((r) => r[0]), pipeline.stages.map((s) => s.name), "one row per stage, in order");
  assert.equal(byStage.get(first.name)[1], "2", "two open deals in the first stage");
  assert.equal(byStage.get(first.name)[3], money(3500.5));
  assert.equal(byStage.get(third.name)[1], "1", "one open deal in the third stage");
  assert.equal(byStage.get(third.name)[3], money(4000));
  for (const s of pipeline.stages.filter((s) => s.id !== first.id && s.id !== third.id)) {
    assert.equal(byStage.get(s.name)[1], "0", `nothing open in ${s.name}`);
  }
  await page.getByText("Won", { exact: true }).waitFor();
  const wonValue = await page.locator(".ant-statistic").filter({ hasText: "Won amount" }).locator(".ant-statistic-content").textContent();
  assert.equal(wonValue.trim(), money(700));

  await everyLanguage(page, "reports-funnel", (p) => p.locator("[data-testid=funnel-table] tr.ant-table-row").first().waitFor());

  // Forecast against the team's quota (set by the manager over REST), and a snapshot taken from
  // the screen.
  await rest(managerToken, "POST", "/v1/quotas", { period: "2026-12", subjectId: department.id, department: true, amount: { currencyCode: "CNY", amount: "10000.00" } });
  await page.getByRole("tab", { name: "Forecast vs quota" }).click();
  await page.locator("[data-testid=forecast-table] tr.ant-table-row").first().waitFor();
  const forecast = await tableRows(page, "forecast-table");
  const december = forecast.find((r) => r[0] === "2026-12");
  assert.ok(december, `a row for 2026-12 in ${JSON.stringify(forecast)}`);
  // Weighted by the stages' probabilities: at least the open deals' 10% + 10% + 50%.
  const amount = (text) => Number(text.replace(/[^\d.]/g, ""));
  assert.ok(amount(december[1]) >= 350.05 + 2000 - 0.001, `weighted ${december[1]}`);
  assert.equal(december[2], money(10000), "the team's quota");
  await page.getByRole("button", { name: "Take snapshot now" }).click();
  await page.locator("[data-testid=snapshot-table] tr.ant-table-row").first().waitFor();
  await everyLanguage(page, "reports-forecast", (p) => p.locator("[data-testid=forecast-table] tr.ant-table-row").first().waitFor());

  // The opportunity analysis per salesperson names the seller, with the four deals.
  await page.getByRole("tab", { name: "Opportunity analysis" }).click();
  await page.locator("[data-testid=analysis-table] td", { hasText: seller.displayName }).first().waitFor();
  const analysis = await tableRows(page, "analysis-table");
  const sellerRow = analysis.find((r) => r[0] === seller.displayName);
  assert.equal(sellerRow?.[1], "4", `the seller's four deals in ${JSON.stringify(analysis)}`);
  await everyLanguage(page, "reports-opportunities", (p) => p.locator("[data-testid=analysis-table] tr.ant-table-row").first().waitFor());

  // The project analysis: the seller's project; lead conversion: two leads, one disqualified.
  await page.getByRole("tab", { name: "Project analysis" }).click();
  await page.locator("[data-testid=projects-table] td", { hasText: seller.displayName }).first().waitFor();
  const projects = await tableRows(page, "projects-table");
  assert.equal(projects.find((r) => r[0] === seller.displayName)?.[1], "1", `one project in ${JSON.stringify(projects)}`);
  await everyLanguage(page, "reports-projects", (p) => p.locator("[data-testid=projects-table] tr.ant-table-row").first().waitFor());

  await page.getByRole("tab", { name: "Lead conversion" }).click();
  await page.locator("[data-testid=leads-table] td", { hasText: seller.displayName }).first().waitFor();
  const leads = await tableRows(page, "leads-table");
  const sellerLeads = leads.find((r) => r[0] === seller.displayName);
  assert.deepEqual(sellerLeads?.slice(1, 5), ["2", "0", "1", "0%"], `the seller's leads in ${JSON.stringify(leads)}`);
  await everyLanguage(page, "reports-leads", (p) => p.locator("[data-testid=leads-table] tr.ant-table-row").first().waitFor());
  await page.context().close();
});
