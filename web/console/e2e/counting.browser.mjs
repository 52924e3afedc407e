// Stocktakes and loans, in a real browser against a running suite: a keeper of a warehouse (set
// up over REST with an opening stock of two products) freezes a stocktake of both through the
// console, sees a second sheet of the same goods refused with a link to the open one, enters the
// counts (a negative one refused on its row, then one product short by 1), and posts the
// differences after 2 of the other product shipped meanwhile: the sheet shows the adjustment of
// −1 and the 2 that moved during the count (kept, not adjusted away), with the adjustment
// document. Then the keeper lends 3 units to a customer through the form (asking for more than
// is there is refused on its line), takes 1 back (asking for more than is out is refused with
// what is out) and turns 1 into a sale, leaving 1 outstanding. Each screen in each language
// (axe-checked and photographed).
//
//   CRM_ADMIN_PASSWORD=... node --test e2e/counting.browser.mjs
//
// These screens are served by the console being tested: CRM_GATEWAY_URL names it (a dev server
// proxies the API to the gateway) when the gateway's own copy does not carry them yet.

import { test } from "node:test";
import assert from "node:assert/strict";
import { accessible, adminToken, everyLanguage, newEmployee, newPage, rest, signIn, unique, useBrowser } from "./lib.mjs";

useBrowser();

const closed = (page) => page.waitForFunction(() => !document.querySelector(".ant-select-dropdown:not(.ant-select-dropdown-hidden)"));

/**
 * Opens the antd Select whose input is `#id`, types `text` (searchable ones) and picks the option
 * titled `title`; a multiple select's list stays open and is closed with Escape.
 */
async function pick(page, id, text, title, { multiple = false } = {}) {
  await page.locator(`#${id}`).click({ force: true });
  if (text) await page.locator(`#${id}`).fill(text);
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${title}"]`).click();
  if (multiple) await page.locator(`#${id}`).press("Escape");
  await closed(page);
}

/** `everyLanguage`'s readiness check, also waiting until every list has closed. */
const settled = (ready) => async (page, language) => {
  await ready(page, language);
  await closed(page);
};

/** Opens a screen from the menu and waits for its heading (a screen loads when first opened). */
async function open(page, menu) {
  await page.getByRole("menuitem", { name: menu, exact: true }).click();
  await page.getByRole("heading", { level: 2, name: menu, exact: true }).waitFor();
}

async function eventually(what, check, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test("a keeper counts a warehouse, posts the differences, and lends goods that come back in part and are sold in part", async () => {
  const admin = await adminToken();
  const suffix = unique();
  const keeper = await newEmployee(admin, { roles: ["warehouse_keeper"], displayName: `Keeper ${suffix}` });
  const product = async (code, name, cost) =>
    (await rest(admin, "POST", "/v1/products", { code, name, unit: "pcs", standardCost: { currencyCode: "CNY", amount: cost } })).product;
  const bolt = await product(`E2E-CB-${suffix}`, `Bolt ${suffix}`, "2.50");
  const nut = await product(`E2E-CN-${suffix}`, `Nut ${suffix}`, "4.00");
  const { warehouse: house } = await rest(admin, "POST", "/v1/warehouses", { code: `E2E-C-${suffix}`, name: `Counted ${suffix}`, keeperIds: [keeper.id] });
  await rest(admin, "POST", "/v1/stockDocuments", {
    document: {
      kind: "DOCUMENT_KIND_OPENING",
      warehouseId: house.id,
      lines: [
        { productId: bolt.id, quantity: "10" },
        { productId: nut.id, quantity: "5" },
      ],
    },
    post: true,
    requestId: crypto.randomUUID(),
  });
  const { customer } = await rest(admin, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: `借样客户${suffix}` } });

  const page = await newPage("en-US");
  await signIn(page, keeper.login, keeper.password);

  // A stocktake of the two products, frozen through the form.
  await open(page, "Stocktakes");
  await page.getByRole("button", { name: "New stocktake" }).click();
  const form = page.locator("[data-testid=new-stocktake]");
  await pick(page, "new-stocktake_warehouseId", house.code, `${house.code} ${house.name}`);
  await form.getByText("Named products", { exact: true }).click();
  await pick(page, "new-stocktake_productIds", bolt.code, `${bolt.code} ${bolt.name}`, { multiple: true });
  await pick(page, "new-stocktake_productIds", nut.code, `${nut.code} ${nut.name}`, { multiple: true });
  await everyLanguage(page, "counting-new", settled((p) => p.locator("#new-stocktake_warehouseId").waitFor()));
  await form.getByRole("button", { name: "Freeze the sheet" }).click();
  const heading = page.getByRole("heading", { level: 2, name: /^Stocktake WH-ST-/ });
  await heading.waitFor();
  const stocktakeId = page.url().split("/").pop();
  const number = (await heading.textContent()).match(/WH-ST-\S+/)[0];
  await page.locator("[data-testid=stocktake-status]", { hasText: "Counting" }).waitFor();
  await page.locator("[data-testid=progress]", { hasText: "0 / 2" }).waitFor();
  const boltRow = page.locator("tr", { hasText: bolt.code });
  const nutRow = page.locator("tr", { hasText: nut.code });
  assert.equal(await boltRow.locator("[data-cell=book]").textContent(), "10");
  assert.equal(await nutRow.locator("[data-cell=book]").textContent(), "5");

  // Everything with stock there is already on that sheet: refused, with a link to it.
  await open(page, "Stocktakes");
  await page.getByRole("link", { name: number }).waitFor();
  await page.getByRole("row").filter({ hasText: number }).getByRole("cell", { name: "0 / 2" }).waitFor();
  await everyLanguage(page, "counting-list", settled((p) => p.getByRole("link", { name: number }).waitFor()));
  await page.getByRole("button", { name: "New stocktake" }).click();
  await pick(page, "new-stocktake_warehouseId", house.code, `${house.code} ${house.name}`);
  await form.getByRole("button", { name: "Freeze the sheet" }).click();
  const refused = page.locator("[data-testid=already-counting]");
  await refused.waitFor();
  await accessible(page, "the refused stocktake");
  await refused.getByRole("link", { name: "Open that stocktake" }).click();
  await heading.waitFor();
  assert.equal(page.url().split("/").pop(), stocktakeId, "the link opens the open sheet");

  // A negative count is refused on its row; then the bolts are one short, the nuts all there.
  const boltCount = page.getByRole("textbox", { name: `Counted quantity of ${bolt.code}` });
  const nutCount = page.getByRole("textbox", { name: `Counted quantity of ${nut.code}` });
  await boltCount.fill("-1");
  await nutCount.fill("5");
  await page.getByRole("button", { name: "Save counts (2)" }).click();
  await boltRow.locator("[data-testid=count-error]").waitFor();
  assert.match(await boltRow.locator("[data-testid=count-error]").textContent(), /negative/);
  assert.equal(await nutRow.locator("[data-testid=count-error]").count(), 0, "the nuts' count is not blamed");
  await accessible(page, "a refused count");
  await boltCount.fill("9");
  await page.getByRole("button", { name: "Save counts (2)" }).click();
  await page.locator("[data-testid=counts-saved]").waitFor();
  await page.locator("[data-testid=progress]", { hasText: "2 / 2" }).waitFor();
  const { stocktake: counted } = await rest(admin, "GET", `/v1/stocktakes/${stocktakeId}`);
  assert.deepEqual(
    counted.lines.map((l) => [l.productCode, l.countedQuantity, l.countedBy]).sort(),
    [
      [bolt.code, "9", keeper.id],
      [nut.code, "5", keeper.id],
    ],
  );
  // Saving again sends nothing: nothing changed.
  assert.equal(await page.getByRole("button", { name: "Save counts" }).isDisabled(), true);
  await boltRow.getByRole("cell", { name: keeper.displayName }).waitFor();
  await everyLanguage(page, "counting-sheet", settled((p) => p.locator("[data-testid=progress]").waitFor()));

  // Meanwhile 2 nuts ship; then the differences are posted.
  await rest(admin, "POST", "/v1/stockDocuments", {
    document: { kind: "DOCUMENT_KIND_OTHER_OUTBOUND", warehouseId: house.id, lines: [{ productId: nut.id, quantity: "2" }] },
    post: true,
    requestId: crypto.randomUUID(),
  });
  await page.getByRole("button", { name: "Post differences" }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Post differences" }).click();
  await page.locator("[data-testid=stocktake-status]", { hasText: "Posted" }).waitFor();
  // The bolts: counted 9 of 10, adjusted by −1. The nuts: counted as frozen, the 2 that moved kept.
  assert.equal(await boltRow.locator("[data-cell=adjustment]").textContent(), "-1");
  assert.equal(await boltRow.locator("[data-cell=moved]").textContent(), "0");
  assert.equal(await boltRow.locator("[data-cell=after]").textContent(), "9");
  assert.equal(await nutRow.locator("[data-cell=moved]").textContent(), "-2");
  assert.equal(await nutRow.locator("[data-cell=adjustment]").textContent(), "0");
  assert.equal(await nutRow.locator("[data-cell=after]").textContent(), "3");
  await page.locator("[data-testid=posted-explained]", { hasText: "whatever moved in or out meanwhile is kept" }).waitFor();
  await nutRow.getByText("-2 pcs moved meanwhile and is kept, so 3 pcs on hand after").waitFor();
  await boltRow.getByText("adjusted by -1 pcs, so 9 pcs on hand after; nothing moved meanwhile").waitFor();
  const { stocktake: posted } = await rest(admin, "GET", `/v1/stocktakes/${stocktakeId}`);
  assert.ok(posted.documentId, "an adjustment document was made");
  assert.equal(await page.getByRole("link", { name: "Open the adjustment document" }).getAttribute("href"), `/stock/documents/${posted.documentId}`);
  const { levels } = await rest(admin, "GET", `/v1/stockLevels?filter=${encodeURIComponent(`warehouse_id = "${house.id}"`)}`);
  assert.equal(levels.find((l) => l.productId === bolt.id)?.onHand, "9");
  assert.equal(levels.find((l) => l.productId === nut.id)?.onHand, "3");
  await everyLanguage(page, "counting-posted", settled((p) => p.locator("[data-testid=posted-explained]").waitFor()));

  // Lending: more bolts than there are is refused on the line; 3 go to the customer as samples.
  await open(page, "Loans and samples");
  await page.getByRole("button", { name: "Lend goods" }).click();
  const lend = page.locator("[data-testid=lend-goods]");
  await pick(page, "lend_warehouseId", house.code, `${house.code} ${house.name}`);
  await page.locator("#lend_customerId").fill(customer.id);
  await page.locator("#lend_dueDate").click();
  await page.locator("#lend_dueDate").fill("2030-06-30");
  await page.locator("#lend_dueDate").press("Enter");
  await page.locator("#lend_sample").click();
  await pick(page, "lend_lines_0_productId", bolt.code, `${bolt.code} ${bolt.name}`);
  await page.locator("#lend_lines_0_quantity").fill("100");
  await lend.getByRole("button", { name: "Lend and post" }).click();
  const shortage = lend.locator(".ant-form-item-explain-error", { hasText: "100 pcs requested" });
  await shortage.waitFor();
  assert.match(await shortage.textContent(), /Only 9 pcs available \(9 pcs on hand\); 100 pcs requested\./);
  await everyLanguage(page, "loans-lend-refused", settled((p) => p.locator("[data-testid=lend-goods] .ant-form-item-explain-error").first().waitFor()));
  await page.locator("#lend_lines_0_quantity").fill("3");
  await lend.getByRole("button", { name: "Lend and post" }).click();
  await lend.waitFor({ state: "detached" });

  // The loan, found by its borrower: 3 out, a sample, due at the end of June 2030.
  await page.locator("#loan-borrower").fill(customer.id);
  await page.locator("#loan-borrower").press("Enter");
  const loanRow = page.locator("tr", { hasText: bolt.code });
  await loanRow.locator("[data-cell=outstanding]", { hasText: /^3\spcs$/ }).waitFor();
  await loanRow.getByText("Sample", { exact: true }).waitFor();
  await loanRow.getByText("2030-06-30").waitFor();
  await loanRow.getByText("¥7.50").waitFor();
  const documentNumber = (await loanRow.getByRole("link").textContent()).trim();
  assert.match(documentNumber, /^WH-/);
  await everyLanguage(page, "loans", settled((p) => p.locator("tr", { hasText: bolt.code }).waitFor()));

  // Taking back more than is out is refused with what is out; 1 comes back.
  await loanRow.getByRole("button", { name: /^Return / }).click();
  const dialog = page.getByRole("dialog");
  assert.equal(await dialog.locator("#loan-return_quantity").inputValue(), "3", "a return takes back everything still out by default");
  await dialog.locator("#loan-return_quantity").fill("5");
  await dialog.getByRole("button", { name: "Return" }).click();
  await dialog.locator("[data-testid=not-out]", { hasText: "Only 3 pcs of this loan is still out; 5 pcs requested." }).waitFor();
  await accessible(page, "a refused return");
  await dialog.locator("#loan-return_quantity").fill("1");
  await dialog.locator("#loan-return_remark").fill("One came back");
  await dialog.getByRole("button", { name: "Return" }).click();
  await dialog.waitFor({ state: "detached" });
  await loanRow.locator("[data-cell=returned]", { hasText: /^1\spcs$/ }).waitFor();
  await loanRow.locator("[data-cell=outstanding]", { hasText: /^2\spcs$/ }).waitFor();

  // 1 the customer keeps, as a sale.
  await loanRow.getByRole("button", { name: /^Sell / }).click();
  const sale = page.getByRole("dialog");
  assert.equal(await sale.locator("#loan-sell_quantity").inputValue(), "2");
  await sale.locator("#loan-sell_quantity").fill("1");
  await sale.locator("#loan-sell_reference").fill(`SO-${suffix}`);
  await sale.getByRole("button", { name: "Sell" }).click();
  await sale.waitFor({ state: "detached" });
  await loanRow.locator("[data-cell=sold]", { hasText: /^1\spcs$/ }).waitFor();
  await loanRow.locator("[data-cell=outstanding]", { hasText: /^1\spcs$/ }).waitFor();
  await accessible(page, "the loans after a return and a sale");

  const { loans } = await eventually("the loan over REST", async () => {
    const answer = await rest(admin, "GET", `/v1/loans?filter=${encodeURIComponent(`counterparty_id = "${customer.id}"`)}`);
    return answer.loans?.length ? answer : null;
  });
  assert.equal(loans.length, 1);
  assert.deepEqual(
    [loans[0].quantity, loans[0].returned, loans[0].sold, loans[0].outstanding, loans[0].sample, loans[0].counterpartyKind, loans[0].status],
    ["3", "1", "1", "1", true, "COUNTERPARTY_KIND_CUSTOMER", "LOAN_STATUS_OPEN"],
  );
  assert.equal(loans[0].outstandingValue.amount, "2.50");
  const { levels: after } = await rest(admin, "GET", `/v1/stockLevels?filter=${encodeURIComponent(`warehouse_id = "${house.id}"`)}`);
  const bolts = after.find((l) => l.productId === bolt.id);
  assert.equal(bolts?.onHand, "7", "9 − 3 lent + 1 returned");
  assert.equal(bolts?.onLoan, "1");
  // Not due until 2030: not among the loans overdue now.
  await page.getByRole("button", { name: "Overdue now" }).click();
  await loanRow.waitFor({ state: "detached" });
  await page.getByText("No loans match").waitFor();
  await page.context().close();
});

test("a keeper counts a category, cancels the count, and lends a sample to a colleague", async () => {
  const admin = await adminToken();
  const suffix = unique();
  // Made before signing in, so the console's directory (the employee picker) holds them.
  const keeper = await newEmployee(admin, { roles: ["warehouse_keeper"], displayName: `Keeper ${suffix}` });
  const colleague = await newEmployee(admin, { roles: ["salesperson"], displayName: `Borrower ${suffix}` });
  const { category } = await rest(admin, "POST", "/v1/productCategories", { name: `Fasteners ${suffix}` });
  const product = async (code, name, categoryId) =>
    (await rest(admin, "POST", "/v1/products", { code, name, unit: "pcs", categoryId, standardCost: { currencyCode: "CNY", amount: "1" } })).product;
  const screw = await product(`E2E-CS-${suffix}`, `Screw ${suffix}`, category.id);
  const glue = await product(`E2E-CG-${suffix}`, `Glue ${suffix}`, "");
  const { warehouse: house } = await rest(admin, "POST", "/v1/warehouses", { code: `E2E-D-${suffix}`, name: `Depot ${suffix}`, keeperIds: [keeper.id] });
  await rest(admin, "POST", "/v1/stockDocuments", {
    document: {
      kind: "DOCUMENT_KIND_OPENING",
      warehouseId: house.id,
      lines: [
        { productId: screw.id, quantity: "20" },
        { productId: glue.id, quantity: "4" },
      ],
    },
    post: true,
    requestId: crypto.randomUUID(),
  });

  const page = await newPage("en-US");
  await signIn(page, keeper.login, keeper.password);

  // A stocktake of the category: only the screws go on the sheet.
  await open(page, "Stocktakes");
  await page.getByRole("button", { name: "New stocktake" }).click();
  const form = page.locator("[data-testid=new-stocktake]");
  await pick(page, "new-stocktake_warehouseId", house.code, `${house.code} ${house.name}`);
  await form.getByText("A category", { exact: true }).click();
  await pick(page, "new-stocktake_categoryId", category.name, category.name);
  await form.getByRole("button", { name: "Freeze the sheet" }).click();
  await page.getByRole("heading", { level: 2, name: /^Stocktake WH-ST-/ }).waitFor();
  const stocktakeId = page.url().split("/").pop();
  await page.locator("tr", { hasText: screw.code }).waitFor();
  assert.equal(await page.locator("tr", { hasText: glue.code }).count(), 0, "the glue is of no category: not on the sheet");

  // Cancelled: nothing adjusted, the sheet released.
  await page.getByRole("button", { name: "Cancel stocktake" }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Cancel stocktake" }).click();
  await page.locator("[data-testid=stocktake-status]", { hasText: "Cancelled" }).waitFor();
  assert.equal(await page.getByRole("textbox", { name: `Counted quantity of ${screw.code}` }).count(), 0, "a cancelled sheet takes no counts");
  const { stocktake } = await rest(admin, "GET", `/v1/stocktakes/${stocktakeId}`);
  assert.equal(stocktake.status, "STOCKTAKE_STATUS_CANCELLED");
  assert.equal(stocktake.documentId, "");

  // The list, filtered to the warehouse's cancelled stocktakes.
  await open(page, "Stocktakes");
  await pick(page, "stocktake-warehouse", house.code, `${house.code} ${house.name}`);
  await pick(page, "stocktake-status", "", "Cancelled");
  const row = page.getByRole("row").filter({ hasText: stocktake.number });
  await row.getByText("Cancelled").waitFor();
  assert.equal(await page.locator("tbody tr.ant-table-row").count(), 1);
  await accessible(page, "the filtered stocktakes");

  // A sample of glue to a colleague, shown by name.
  await open(page, "Loans and samples");
  await page.getByRole("button", { name: "Lend goods" }).click();
  const lend = page.locator("[data-testid=lend-goods]");
  await pick(page, "lend_warehouseId", house.code, `${house.code} ${house.name}`);
  await lend.getByText("Employee", { exact: true }).click();
  await pick(page, "lend_employeeId", colleague.displayName, `${colleague.displayName} (${colleague.login})`);
  await page.locator("#lend_sample").click();
  await pick(page, "lend_lines_0_productId", glue.code, `${glue.code} ${glue.name}`);
  await page.locator("#lend_lines_0_quantity").fill("1");
  await lend.getByRole("button", { name: "Lend and post" }).click();
  await lend.waitFor({ state: "detached" });
  await pick(page, "loan-warehouse", house.code, `${house.code} ${house.name}`);
  const loanRow = page.locator("tr", { hasText: glue.code });
  await loanRow.getByText(colleague.displayName, { exact: true }).waitFor();
  await loanRow.getByText("Employee", { exact: true }).waitFor();
  await loanRow.locator("[data-cell=outstanding]", { hasText: /^1\spcs$/ }).waitFor();
  const { loans } = await rest(admin, "GET", `/v1/loans?filter=${encodeURIComponent(`warehouse_id = "${house.id}"`)}`);
  assert.deepEqual(
    loans.map((l) => [l.counterpartyKind, l.counterpartyId, l.sample, l.outstanding, l.dueDate]),
    [["COUNTERPARTY_KIND_EMPLOYEE", colleague.id, true, "1", ""]],
  );

  // Everything that came back: the sample returned whole (the quantity left empty).
  await loanRow.getByRole("button", { name: /^Return / }).click();
  const dialog = page.getByRole("dialog");
  await dialog.locator("#loan-return_quantity").fill("");
  await dialog.getByRole("button", { name: "Return" }).click();
  await dialog.waitFor({ state: "detached" });
  // Closed loans leave the list of open ones; shown again with "Open or closed".
  await loanRow.waitFor({ state: "detached" });
  await pick(page, "loan-status", "", "Open or closed");
  await loanRow.getByText("Closed", { exact: true }).waitFor();
  await accessible(page, "a closed loan");
  await page.context().close();
});
