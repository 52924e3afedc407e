// Serial numbers, in a real browser against a running suite: a keeper of a warehouse creates a
// product tracked by serial number through the form, receives three units with their serial
// numbers (pasted as one list: the quantity follows their count), ships one, is refused shipping
// it again (told on the line's serial numbers), is refused changing the product's tracking now
// that it has moved (told on the field), and looks the serial up: gone, with its two moves, each
// linking to its document; the list of the product's serials filtered by state. Another keeper
// receives a lot (refused without one), finds it on the stock screen's lots, and takes back two of
// the three serials of a loan, picked in the return dialog. Each screen in each language
// (axe-checked and photographed).
//
//   CRM_ADMIN_PASSWORD=... node --test e2e/serials.browser.mjs
//
// The screens are served by the console being tested: CRM_GATEWAY_URL names it (a dev server
// proxies the API to the gateway) when the gateway's own copy does not carry them yet.

import { test } from "node:test";
import assert from "node:assert/strict";
import { accessible, adminToken, everyLanguage, newEmployee, newPage, rest, shots, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

const closed = (page) => page.waitForFunction(() => !document.querySelector(".ant-select-dropdown:not(.ant-select-dropdown-hidden)"));

/** Opens the antd Select whose input is `#id`, types `text` (searchable ones) and picks the option titled `title`. */
async function pick(page, id, text, title) {
  await page.locator(`#${id}`).click({ force: true });
  if (text) await page.locator(`#${id}`).fill(text);
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${title}"]`).click();
  await closed(page);
}

/** `everyLanguage`'s readiness check, also waiting until the language list has closed. */
const settled = (ready) => async (page, language) => {
  await ready(page, language);
  await closed(page);
};

/** Opens a screen from the menu and waits for its heading (a screen loads when first opened). */
async function open(page, menu) {
  await page.getByRole("menuitem", { name: menu, exact: true }).click();
  await page.getByRole("heading", { level: 2, name: menu, exact: true }).waitFor();
}

/** A new document of `kind` from `house` with one line of `product` carrying `serials` (typed as one pasted list). */
async function newDocument(page, { kind, house, product, serials }) {
  await open(page, "Stock documents");
  await page.getByRole("button", { name: "New document" }).click();
  const form = page.locator("[data-testid=new-document]");
  await form.waitFor();
  await pick(page, "stock-document_kind", kind, kind);
  await pick(page, "stock-document_warehouseId", house.code, `${house.code} ${house.name}`);
  await pick(page, "stock-document_lines_0_productId", product.code, `${product.code} ${product.name}`);
  const input = page.locator("#stock-document_lines_0_serialNumbers");
  await input.click();
  await input.fill(`${serials.join(", ")},`);
  for (const serial of serials) await form.locator(".ant-select-selection-item", { hasText: serial }).waitFor();
  return form;
}

test("a keeper receives, ships and traces serial numbers through the console", async () => {
  const admin = await adminToken();
  const suffix = unique();
  const keeper = await newEmployee(admin, { roles: ["warehouse_keeper"], displayName: `Keeper ${suffix}` });
  const keeperToken = await tokenFor(keeper.login, keeper.password);
  const { warehouse: house } = await rest(admin, "POST", "/v1/warehouses", { code: `E2E-SN-${suffix}`, name: `Serials ${suffix}`, keeperIds: [keeper.id] });
  const product = { code: `E2E-PHONE-${suffix}`, name: `Phone ${suffix}` };
  const serials = [`SN${suffix}A`, `SN${suffix}B`, `SN${suffix}C`];

  const page = await newPage("en-US");
  await signIn(page, keeper.login, keeper.password);

  // A product tracked by serial number, through the form.
  await page.getByRole("menuitem", { name: "Products" }).click();
  await page.getByRole("button", { name: "New product" }).click();
  await page.locator("#new-product_code").fill(product.code);
  await page.locator("#new-product_name").fill(product.name);
  await page.locator("#new-product_unit").fill("pcs");
  await page.locator(".ant-drawer label.ant-radio-button-wrapper", { hasText: "Serial numbers" }).click();
  await accessible(page, "the new product form with its tracking");
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: `${product.code} ${product.name}` }).waitFor();
  product.id = new URL(page.url()).pathname.split("/").pop();
  await page.locator("[data-testid=product-tracking]", { hasText: "Serial numbers" }).waitFor();
  const { product: saved } = await rest(keeperToken, "GET", `/v1/products/${product.id}`);
  assert.equal(saved.tracking, "TRACKING_SERIAL");
  await everyLanguage(page, "serials-product", settled((p) => p.locator("[data-testid=product-tracking]").waitFor()));

  // Three units come in, their numbers pasted as one list: the quantity is their count.
  const opening = await newDocument(page, { kind: "Opening stock", house, product, serials });
  assert.equal(await page.locator("#stock-document_lines_0_quantity").inputValue(), "3", "the quantity follows the serial numbers");
  await everyLanguage(page, "serials-document-new", settled((p) => p.locator("#stock-document_lines_0_serialNumbers").waitFor()));
  await opening.getByRole("button", { name: "Post now" }).click();
  await page.getByRole("heading", { name: /WH-IN-/ }).waitFor();
  await page.locator("[data-testid=document-status]", { hasText: "Posted" }).waitFor();
  const cell = page.locator("[data-cell=serials]");
  for (const serial of serials) await cell.getByRole("link", { name: serial, exact: true }).waitFor();
  const inNumber = (await page.getByRole("heading", { name: /WH-IN-/ }).textContent()).match(/WH-IN-\S+/)[0];
  await everyLanguage(page, "serials-document", settled((p) => p.locator("[data-cell=serials]").waitFor()));

  // One of them ships.
  const shipped = serials[1];
  const delivery = await newDocument(page, { kind: "Delivery", house, product, serials: [shipped] });
  assert.equal(await page.locator("#stock-document_lines_0_quantity").inputValue(), "1");
  await delivery.getByRole("button", { name: "Post now" }).click();
  await page.getByRole("heading", { name: /WH-OUT-/ }).waitFor();
  await page.locator("[data-testid=document-status]", { hasText: "Posted" }).waitFor();
  const outNumber = (await page.getByRole("heading", { name: /WH-OUT-/ }).textContent()).match(/WH-OUT-\S+/)[0];

  // Shipping it again is refused, told on the line's serial numbers: it left this warehouse.
  const again = await newDocument(page, { kind: "Delivery", house, product, serials: [shipped] });
  await again.getByRole("button", { name: "Post now" }).click();
  const explain = again.locator(".ant-form-item-explain-error", { hasText: shipped });
  await explain.waitFor();
  assert.equal(await explain.textContent(), `Serial ${shipped} is not on these shelves: it left ${house.code} Serials ${suffix}.`);
  await page.locator(".ant-alert-error", { hasText: `Line 1: Serial ${shipped}` }).waitFor();
  await accessible(page, "the refused delivery");
  await everyLanguage(page, "serials-refused", settled((p) => p.locator("[data-testid=new-document] .ant-form-item-explain-error").first().waitFor()));
  await again.getByRole("button", { name: "Cancel" }).click();

  // The product has moved: its tracking can no longer change (told on the field).
  await page.getByRole("menuitem", { name: "Products" }).click();
  await page.locator("#product-search").fill(product.code);
  await page.getByRole("link", { name: product.code }).click();
  await page.getByRole("heading", { name: `${product.code} ${product.name}` }).waitFor();
  await page.getByRole("button", { name: "Edit" }).click();
  await page.locator(".ant-drawer label.ant-radio-button-wrapper", { hasText: "Lots" }).click();
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await page.locator("#edit-product_tracking_help", { hasText: /stock movements/ }).waitFor();
  await accessible(page, "the refused tracking change");
  await page.locator(".ant-drawer").getByRole("button", { name: "Cancel" }).click();

  // The serial looked up: gone from the warehouse, its two moves each linking to its document.
  await open(page, "Serial numbers");
  await pick(page, "serial-lookup-product", product.code, `${product.code} ${product.name}`);
  await page.locator("#serial-lookup-serial").fill(shipped);
  await page.getByRole("button", { name: "Find" }).click();
  await page.locator("[data-testid=serial-state]", { hasText: "Gone" }).waitFor();
  await page.locator("[data-testid=serial-where]", { hasText: `it left ${house.code} Serials ${suffix}` }).waitFor();
  const moves = page.locator("[data-testid=serial-history] tbody tr.ant-table-row");
  await moves.nth(1).waitFor();
  assert.equal(await moves.count(), 2, "received, then shipped");
  await moves.nth(0).getByRole("link", { name: inNumber }).waitFor();
  await moves.nth(0).getByText("In stock").waitFor();
  await moves.nth(1).getByRole("link", { name: outNumber }).waitFor();
  await moves.nth(1).getByText("Gone").waitFor();
  assert.match(page.url(), new RegExp(`serial=${shipped}`), "the lookup is kept in the address");

  // The product's serials: three, two of them in stock.
  await pick(page, "serials-product", product.code, `${product.code} ${product.name}`);
  const rows = page.locator("[data-testid=serials-list] tbody tr.ant-table-row");
  await rows.nth(2).waitFor();
  assert.equal(await rows.count(), 3);
  await pick(page, "serials-state", "", "In stock");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=serials-list] tbody tr.ant-table-row").length === 2);
  await everyLanguage(page, "serials", settled((p) => p.locator("[data-testid=serial-history] tbody tr.ant-table-row").nth(1).waitFor()));

  // A move's link opens its document.
  await moves.nth(1).getByRole("link", { name: outNumber }).click();
  await page.getByRole("heading", { name: new RegExp(outNumber) }).waitFor();
  await page.locator("[data-cell=serials]").getByRole("link", { name: shipped, exact: true }).waitFor();
});

test("a keeper receives a lot, sees it on the stock screen, and takes back some serials of a loan", async () => {
  const admin = await adminToken();
  const suffix = unique();
  const keeper = await newEmployee(admin, { roles: ["warehouse_keeper"], displayName: `Keeper ${suffix}` });
  const { warehouse: house } = await rest(admin, "POST", "/v1/warehouses", { code: `E2E-LOT-${suffix}`, name: `Lots ${suffix}`, keeperIds: [keeper.id] });
  const { product: flour } = await rest(admin, "POST", "/v1/products", { code: `E2E-FLOUR-${suffix}`, name: `Flour ${suffix}`, unit: "kg", tracking: "TRACKING_LOT" });
  const { product: drill } = await rest(admin, "POST", "/v1/products", { code: `E2E-DRILL-${suffix}`, name: `Drill ${suffix}`, unit: "pcs", tracking: "TRACKING_SERIAL" });
  const serials = [`D${suffix}1`, `D${suffix}2`, `D${suffix}3`];
  const post = (document) => rest(admin, "POST", "/v1/stockDocuments", { document, post: true, requestId: crypto.randomUUID() });
  await post({ kind: "DOCUMENT_KIND_OPENING", warehouseId: house.id, lines: [{ productId: drill.id, quantity: "3", serialNumbers: serials }] });
  await post({
    kind: "DOCUMENT_KIND_LOAN_OUT",
    warehouseId: house.id,
    counterpartyKind: "COUNTERPARTY_KIND_EMPLOYEE",
    counterpartyId: keeper.id,
    lines: [{ productId: drill.id, quantity: "3", serialNumbers: serials }],
  });
  const lot = `LOT-${suffix}`;

  const page = await newPage("en-US");
  await signIn(page, keeper.login, keeper.password);

  // 5 kg of a lot come in through the form; the document shows the lot.
  await open(page, "Stock documents");
  await page.getByRole("button", { name: "New document" }).click();
  const form = page.locator("[data-testid=new-document]");
  await pick(page, "stock-document_kind", "Opening stock", "Opening stock");
  await pick(page, "stock-document_warehouseId", house.code, `${house.code} ${house.name}`);
  await pick(page, "stock-document_lines_0_productId", flour.code, `${flour.code} ${flour.name}`);
  await page.locator("#stock-document_lines_0_quantity").fill("5");
  // Without its lot the line is not sent.
  await form.getByRole("button", { name: "Post now" }).click();
  await form.locator(".ant-form-item-explain-error", { hasText: "Enter the lot" }).waitFor();
  await page.locator("#stock-document_lines_0_lot").fill(lot);
  await accessible(page, "a lot line");
  await form.getByRole("button", { name: "Post now" }).click();
  await page.getByRole("heading", { name: /WH-IN-/ }).waitFor();
  await page.locator("[data-cell=lot]", { hasText: lot }).waitFor();

  // The stock screen's lots: 5 kg of it in the warehouse.
  await open(page, "Stock");
  await page.getByRole("tab", { name: "Lots" }).click();
  await pick(page, "lots-warehouse", house.code, `${house.code} ${house.name}`);
  const lotRow = page.locator("tr", { hasText: lot });
  await lotRow.locator("[data-cell=lot-on-hand]", { hasText: /^5$/ }).waitFor();
  assert.match(page.url(), /tab=lots/);
  await everyLanguage(page, "serials-lots", settled((p) => p.locator("tr", { hasText: lot }).waitFor()));

  // The loan shows the serials still out; two of the three come back.
  await open(page, "Loans and samples");
  await pick(page, "loan-warehouse", house.code, `${house.code} ${house.name}`);
  const loanRow = page.locator("tr", { hasText: drill.code });
  for (const serial of serials) await loanRow.locator("[data-cell=serials]", { hasText: serial }).waitFor();
  await loanRow.getByRole("button", { name: /^Return / }).click();
  const dialog = page.getByRole("dialog");
  const picked = dialog.locator(".ant-select-selection-item");
  await picked.nth(2).waitFor();
  assert.equal(await picked.count(), 3, "every serial still out is picked by default");
  await dialog.locator(`.ant-select-selection-item[title="${serials[2]}"] .ant-select-selection-item-remove`).click();
  await page.waitForFunction(() => document.querySelectorAll("[role=dialog] .ant-select-selection-item").length === 2);
  // The picker's list closed (it lies over the hint below it while open).
  await dialog.locator(".ant-modal-title").click();
  await page.waitForFunction(() =>
    [...document.querySelectorAll(".ant-select-dropdown")].every((d) => d.classList.contains("ant-select-dropdown-hidden") || d.offsetParent === null),
  );
  await accessible(page, "a return of serials");
  await page.screenshot({ path: `${shots}/serials-loan-return-en.png`, fullPage: true });
  await dialog.getByRole("button", { name: "Return", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  await loanRow.locator("[data-cell=outstanding]", { hasText: /^1\spcs$/ }).waitFor();
  await page.waitForFunction((kept) => {
    const cell = [...document.querySelectorAll("tr")].find((r) => r.textContent.includes(kept))?.querySelector("[data-cell=serials]");
    return cell && cell.querySelectorAll(".ant-tag").length === 1;
  }, serials[2]);
  const state = async (serial) => (await rest(admin, "GET", `/v1/products/${drill.id}/serialNumbers/${serial}`)).serialNumber.state;
  assert.equal(await state(serials[0]), "SERIAL_STATE_STOCK");
  assert.equal(await state(serials[1]), "SERIAL_STATE_STOCK");
  assert.equal(await state(serials[2]), "SERIAL_STATE_LOAN");
  await everyLanguage(page, "serials-loans", settled((p) => p.locator("tr", { hasText: drill.code }).waitFor()));
});
