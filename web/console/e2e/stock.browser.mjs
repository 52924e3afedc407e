// Stock, in a real browser against a running suite: a keeper of two warehouses (set up over
// REST with a product sold in boxes of 12) posts an opening document of 2 boxes at a cost
// through the form and sees 24 on hand; an outbound of 30 is refused and the shortage is told on
// its line; an outbound of 4 posts; a transfer in transit to the second warehouse is received on
// its page; the journal holds every line; the stock value and a clean audit are shown. A
// warehouse manager sets a safety stock and filters what is under it, releases a reservation,
// sees a draft's post refused for want of stock and cancels it, and posts another draft. Each
// screen in each language (axe-checked and photographed).
//
//   CRM_ADMIN_PASSWORD=... node --test e2e/stock.browser.mjs
//
// The stock screens are served by the console being tested: CRM_GATEWAY_URL names it (a dev
// server proxies the API to the gateway) when the gateway's own copy does not carry them yet.

import { test } from "node:test";
import assert from "node:assert/strict";
import { accessible, adminToken, everyLanguage, newEmployee, newPage, rest, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

const closed = (page) => page.waitForFunction(() => !document.querySelector(".ant-select-dropdown:not(.ant-select-dropdown-hidden)"));

/** Opens the antd Select whose input is `#id`, types `text` (searchable ones) and picks the option titled `title`. */
async function pick(page, id, text, title) {
  await page.locator(`#${id}`).click({ force: true });
  if (text) await page.locator(`#${id}`).fill(text);
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${title}"]`).click();
  await closed(page);
}

/**
 * `everyLanguage`'s readiness check, also waiting until the language list has closed (other
 * lists on the screen are in the page as well, so the first one hidden says nothing).
 */
const settled = (ready) => async (page, language) => {
  await ready(page, language);
  await closed(page);
};

/** Opens a screen from the menu and waits for its heading (a screen loads when first opened). */
async function open(page, menu) {
  await page.getByRole("menuitem", { name: menu, exact: true }).click();
  await page.getByRole("heading", { level: 2, name: menu, exact: true }).waitFor();
}

/** A select without search: opened and its option clicked. */
async function choose(page, id, title) {
  await page.locator(`#${id}`).click({ force: true });
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${title}"]`).click();
  await closed(page);
}

/** Fills the new document's header and first line (`unit` and `cost` when given). */
async function newDocument(page, { kind, from, to, product, quantity, unit, cost, reference }) {
  await open(page, "Stock documents");
  await page.getByRole("button", { name: "New document" }).click();
  const form = page.locator("[data-testid=new-document]");
  await form.waitFor();
  await pick(page, "stock-document_kind", kind, kind);
  await pick(page, "stock-document_warehouseId", from.code, `${from.code} ${from.name}`);
  if (to) await pick(page, "stock-document_toWarehouseId", to.code, `${to.code} ${to.name}`);
  if (reference) await page.locator("#stock-document_reference").fill(reference);
  await pick(page, "stock-document_lines_0_productId", product.code, `${product.code} ${product.name}`);
  await page.locator("#stock-document_lines_0_quantity").fill(quantity);
  if (unit) await choose(page, "stock-document_lines_0_unit", unit);
  if (cost) await page.locator("#stock-document_lines_0_unitCost").fill(cost);
  return form;
}

test("a keeper receives, issues, transfers and audits stock through the console", async () => {
  const admin = await adminToken();
  const suffix = unique();
  const keeper = await newEmployee(admin, { roles: ["warehouse_keeper"], displayName: `Keeper ${suffix}` });
  const { product } = await rest(admin, "POST", "/v1/products", {
    code: `E2E-BOLT-${suffix}`,
    name: `Bolt ${suffix}`,
    unit: "pcs",
    units: [{ name: "box", factor: "12" }],
    standardCost: { currencyCode: "CNY", amount: "1.50" },
  });
  const house = async (code, name) => (await rest(admin, "POST", "/v1/warehouses", { code, name, keeperIds: [keeper.id] })).warehouse;
  const a = await house(`E2E-A-${suffix}`, `Main ${suffix}`);
  const b = await house(`E2E-B-${suffix}`, `Branch ${suffix}`);

  const page = await newPage("en-US");
  await signIn(page, keeper.login, keeper.password);

  // Opening stock: 2 boxes at 24.00 a box, posted through the form.
  const opening = await newDocument(page, { kind: "Opening stock", from: a, product, quantity: "2", unit: "box", cost: "24", reference: `OPEN-${suffix}` });
  await everyLanguage(page, "stock-document-new", settled((p) => p.locator("#stock-document_lines_0_quantity").waitFor()));
  await opening.getByRole("button", { name: "Post now" }).click();
  await page.getByRole("heading", { name: /WH-IN-/ }).waitFor();
  await page.locator("[data-testid=document-status]", { hasText: "Posted" }).waitFor();
  // The line as entered (2 box), in stock units (24 pcs), at 2.00 a piece, worth 48.00.
  await page.getByRole("cell", { name: "2 box" }).waitFor();
  await page.getByRole("cell", { name: "24 pcs" }).waitFor();
  await page.getByRole("cell", { name: "¥48.00" }).waitFor();
  await everyLanguage(page, "stock-document", settled((p) => p.getByRole("cell", { name: "24 pcs" }).waitFor()));

  // Stock: 24 on hand in the first warehouse.
  await open(page, "Stock");
  await pick(page, "stock-warehouse", a.code, `${a.code} ${a.name}`);
  const row = page.locator("tr", { hasText: product.code });
  await row.locator("[data-cell=on-hand]", { hasText: /^24$/ }).waitFor();
  await everyLanguage(page, "stock-levels", settled((p) => p.locator("tr", { hasText: product.code }).waitFor()));

  // An outbound of 30 is refused: the shortage is told on the line's quantity.
  const outbound = await newDocument(page, { kind: "Other outbound", from: a, product, quantity: "30" });
  await outbound.getByRole("button", { name: "Post now" }).click();
  const explain = outbound.locator(".ant-form-item-explain-error", { hasText: "30 pcs requested" });
  await explain.waitFor();
  const sentence = await explain.textContent();
  assert.match(sentence, new RegExp(`Only 24 pcs of ${product.code} Bolt ${suffix} available in ${a.code} Main ${suffix} \\(24 pcs on hand\\); 30 pcs requested\\.`));
  await accessible(page, "the refused outbound");
  await everyLanguage(page, "stock-document-shortage", settled((p) => p.locator("[data-testid=new-document] .ant-form-item-explain-error").first().waitFor()));

  // 4 pieces go out.
  await page.locator("#stock-document_lines_0_quantity").fill("4");
  await outbound.getByRole("button", { name: "Post now" }).click();
  await page.getByRole("heading", { name: /WH-OUT-/ }).waitFor();
  await page.locator("[data-testid=document-status]", { hasText: "Posted" }).waitFor();

  // A box travels to the second warehouse and is received there.
  const transfer = await newDocument(page, { kind: "Transfer", from: a, to: b, product, quantity: "1", unit: "box" });
  assert.equal(await page.locator("#stock-document_inTransit").getAttribute("aria-checked"), "true", "a transfer travels by default");
  await transfer.getByRole("button", { name: "Post now" }).click();
  await page.getByRole("heading", { name: /WH-TR-/ }).waitFor();
  await page.locator("[data-testid=document-status]", { hasText: "In transit" }).waitFor();
  const transferNumber = (await page.getByRole("heading", { name: /WH-TR-/ }).textContent()).match(/WH-TR-\S+/)[0];
  const { levels: travelling } = await rest(admin, "GET", `/v1/stockLevels?filter=${encodeURIComponent(`product_id = "${product.id}"`)}`);
  assert.equal(travelling.find((l) => l.warehouseId === b.id)?.inTransit, "12", "12 pieces on their way to the branch");
  await everyLanguage(page, "stock-transfer", settled((p) => p.locator("[data-testid=document-status]").waitFor()));
  await page.getByRole("button", { name: "Receive" }).click();
  await page.locator("[data-testid=document-status]", { hasText: "Posted" }).waitFor();
  const { levels } = await rest(admin, "GET", `/v1/stockLevels?filter=${encodeURIComponent(`product_id = "${product.id}"`)}`);
  assert.equal(levels.find((l) => l.warehouseId === a.id)?.onHand, "8");
  assert.equal(levels.find((l) => l.warehouseId === b.id)?.onHand, "12");
  assert.equal(levels.find((l) => l.warehouseId === b.id)?.inTransit, "0");

  // The documents list holds the three.
  await open(page, "Stock documents");
  await pick(page, "document-warehouse", a.code, `${a.code} ${a.name}`);
  await page.locator("tbody tr.ant-table-row").nth(2).waitFor();
  assert.equal(await page.locator("tbody tr.ant-table-row").count(), 3, "opening, outbound, transfer");
  await everyLanguage(page, "stock-documents", settled((p) => p.locator("tbody tr.ant-table-row").first().waitFor()));

  // The journal: every line of the product, newest first, each linking to its document.
  await open(page, "Inventory journal");
  await pick(page, "journal-product", product.code, `${product.code} ${product.name}`);
  const entries = page.locator("tbody tr.ant-table-row");
  // Opening +24; outbound −4; transfer −12 at the source, +12 in transit, −12 in transit, +12 received.
  await entries.nth(5).waitFor();
  assert.equal(await entries.count(), 6);
  await entries.first().getByRole("link", { name: /WH-TR-/ }).waitFor();
  await entries.last().getByRole("link", { name: /WH-IN-/ }).waitFor();
  await page.locator("tbody tr.ant-table-row", { hasText: "WH-OUT-" }).getByText("-4", { exact: true }).waitFor();
  await everyLanguage(page, "stock-journal", settled((p) => p.locator("tbody tr.ant-table-row").nth(5).waitFor()));

  // Stock value and the audit: every balance equals its ledger.
  await open(page, "Stock value");
  await page.getByRole("cell", { name: `${a.code} ${a.name}` }).waitFor();
  // 8 pieces at 2.00 and 12 at 2.00.
  await page.locator("tr", { hasText: a.code }).getByRole("cell", { name: "¥16.00" }).waitFor();
  await page.locator("tr", { hasText: b.code }).getByRole("cell", { name: "¥24.00" }).first().waitFor();
  await page.locator("[data-testid=audit-result]", { hasText: "Every balance equals its ledger" }).waitFor();
  const audit = await rest(await tokenFor(keeper.login, keeper.password), "GET", "/v1/stock:audit");
  assert.deepEqual(audit.mismatches, [], "the service's audit finds no mismatch");
  await everyLanguage(page, "stock-value", settled((p) => p.locator("[data-testid=audit-result]").waitFor()));

  // The transfer's page once received.
  await open(page, "Stock documents");
  await page.getByRole("link", { name: transferNumber }).click();
  await page.locator("[data-testid=document-status]", { hasText: "Posted" }).waitFor();
  await accessible(page, "the received transfer");
  await page.context().close();
});

test("a warehouse manager sets a safety stock and finds what is under it", async () => {
  const admin = await adminToken();
  const suffix = unique();
  const manager = await newEmployee(admin, { roles: ["warehouse_manager"], displayName: `Manager ${suffix}` });
  const managerToken = await tokenFor(manager.login, manager.password);
  const { product } = await rest(admin, "POST", "/v1/products", { code: `E2E-NUT-${suffix}`, name: `Nut ${suffix}`, unit: "pcs" });
  const { warehouse: w } = await rest(admin, "POST", "/v1/warehouses", { code: `E2E-S-${suffix}`, name: `Spares ${suffix}` });
  await rest(managerToken, "POST", "/v1/stockDocuments", {
    document: { kind: "DOCUMENT_KIND_OPENING", warehouseId: w.id, lines: [{ productId: product.id, quantity: "5", unitCost: { amount: "3" } }] },
    post: true,
    requestId: crypto.randomUUID(),
  });

  const page = await newPage("en-US");
  await signIn(page, manager.login, manager.password);
  await open(page, "Stock");
  await pick(page, "stock-warehouse", w.code, `${w.code} ${w.name}`);
  await page.getByRole("button", { name: `Safety stock of ${product.code} in ${w.code} ${w.name}` }).click();
  await page.locator("#safety_minimum").fill("10");
  await page.locator("#safety_maximum").fill("40");
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await page.locator("tr", { hasText: product.code }).getByText("10 pcs / 40 pcs").waitFor();
  await page.locator("#stock-below-safety").click();
  await page.locator("tr", { hasText: product.code }).waitFor();
  const { levels } = await rest(managerToken, "GET", `/v1/stockLevels?filter=${encodeURIComponent(`below_safety = true AND warehouse_id = "${w.id}"`)}`);
  assert.deepEqual(
    levels.map((l) => [l.productId, l.safetyMinimum, l.safetyMaximum]),
    [[product.id, "10", "40"]],
  );
  await everyLanguage(page, "stock-below-safety", settled((p) => p.locator("tr", { hasText: product.code }).waitFor()));

  // A reservation (made over REST, as orders would) is listed and released.
  const { reservation } = await rest(managerToken, "POST", "/v1/reservations", { warehouseId: w.id, productId: product.id, quantity: "2", reference: `SO-${suffix}`, requestId: crypto.randomUUID() });
  await page.getByRole("tab", { name: "Reservations" }).click();
  await pick(page, "reservation-warehouse", w.code, `${w.code} ${w.name}`);
  const held = page.locator("tr", { hasText: `SO-${suffix}` });
  await held.getByRole("cell", { name: "Active" }).waitFor();
  await everyLanguage(page, "stock-reservations", settled((p) => p.locator("tr", { hasText: `SO-${suffix}` }).waitFor()));
  await held.getByRole("button", { name: "Release" }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Release" }).click();
  await choose(page, "reservation-status", "Released");
  await page.locator("tr", { hasText: `SO-${suffix}` }).getByRole("cell", { name: "Released" }).waitFor();
  const { reservations } = await rest(managerToken, "GET", `/v1/reservations?filter=${encodeURIComponent(`warehouse_id = "${w.id}"`)}`);
  assert.deepEqual(reservations.map((r) => [r.id, r.status]), [[reservation.id, "RESERVATION_STATUS_RELEASED"]]);

  // A draft of 100 pieces, saved through the form: posting it on its page is refused with the
  // shortage told on its line; it is cancelled with a reason.
  await newDocument(page, { kind: "Material issue", from: w, product, quantity: "100" });
  await page.locator("[data-testid=new-document]").getByRole("button", { name: "Save as draft" }).click();
  await page.locator("[data-testid=document-status]", { hasText: "Draft" }).waitFor();
  await page.getByRole("button", { name: "Post", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "100 pcs requested" }).waitFor();
  await page.getByRole("cell", { name: /Only 5 pcs of .* available in .* \(5 pcs on hand\); 100 pcs requested\./ }).waitFor();
  await everyLanguage(page, "stock-draft-shortage", settled((p) => p.getByRole("alert").first().waitFor()));
  await page.getByRole("button", { name: "Cancel document" }).click();
  await page.locator("#cancel-reason").fill("Counted wrong");
  await page.locator(".ant-modal").getByRole("button", { name: "Cancel document" }).click();
  await page.locator("[data-testid=document-status]", { hasText: "Cancelled" }).waitFor();
  const { documents } = await rest(managerToken, "GET", `/v1/stockDocuments?filter=${encodeURIComponent(`warehouse_id = "${w.id}" AND status = "cancelled"`)}`);
  assert.equal(documents.length, 1, "the draft is cancelled");

  // A draft of 2 posts from its page, once however often the button is pressed.
  await newDocument(page, { kind: "Material issue", from: w, product, quantity: "2" });
  await page.locator("[data-testid=new-document]").getByRole("button", { name: "Save as draft" }).click();
  await page.locator("[data-testid=document-status]", { hasText: "Draft" }).waitFor();
  await page.getByRole("button", { name: "Post", exact: true }).dblclick();
  await page.locator("[data-testid=document-status]", { hasText: "Posted" }).waitFor();
  const { levels: after } = await rest(managerToken, "GET", `/v1/stockLevels?filter=${encodeURIComponent(`warehouse_id = "${w.id}"`)}`);
  assert.equal(after[0].onHand, "3", "posted once");
  await page.context().close();
});
