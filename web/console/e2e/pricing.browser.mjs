// Price lists and the product CSV, in a real browser against a running suite: a sales manager
// creates a price list naming a new customer, prices a product on it, changes the price in its
// row and sets the list's last day; the price check then gives that customer the list's price
// (and the default sale price to another customer). A warehouse manager imports a small CSV of
// products with one bad row and sees the counts, the ignored column and the row's error, then
// exports the search as CSV. A salesperson reads the lists without a way to change them. Each
// screen in each language (axe-checked and photographed).
//
//   CRM_ADMIN_PASSWORD=... node --test e2e/pricing.browser.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { adminToken, everyLanguage, newEmployee, newPage, rest, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

/**
 * Opens the antd Select whose input is `#id` (clicked on its box: a value chosen covers the
 * input), types `text` and picks the option titled `title`.
 */
async function pick(page, id, text, title, { multiple = false } = {}) {
  await page.locator(".ant-select-selector", { has: page.locator(`#${id}`) }).click();
  await page.locator(`#${id}`).fill(text);
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${title}"]`).click();
  if (multiple) await page.locator(`#${id}`).press("Escape");
  await page.waitForFunction(() => !document.querySelector(".ant-select-dropdown:not(.ant-select-dropdown-hidden)"));
}

const suffix = unique();

test("a sales manager prices a product for a customer and the price check picks that list", async () => {
  const admin = await adminToken();
  const manager = await newEmployee(admin, { roles: ["sales_manager"], displayName: `Pricer ${suffix}` });
  const managerToken = await tokenFor(manager.login, manager.password);
  const code = `E2E-PR-${suffix}`;
  const productName = `Priced valve ${suffix}`;
  const { product } = await rest(admin, "POST", "/v1/products", { code, name: productName, unit: "pcs", salePrice: { currencyCode: "CNY", amount: "20.00" } });
  const customerName = `Pricing customer ${suffix}`;
  const { customer } = await rest(managerToken, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: customerName, levelCode: "B" } });
  const otherName = `Unpriced customer ${suffix}`;
  await rest(managerToken, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name: otherName, levelCode: "D" } });
  const listName = `E2E list ${suffix}`;

  const page = await newPage("en-US");
  await signIn(page, manager.login, manager.password);
  await page.getByRole("menuitem", { name: "Price lists" }).click();
  await page.getByRole("heading", { name: "Price lists" }).waitFor();

  // A list naming the customer, through the dialog.
  await page.getByRole("button", { name: "New price list" }).click();
  await page.locator("#new-price-list_name").fill(listName);
  await page.locator(".ant-modal").getByText("Named customers", { exact: true }).click();
  await pick(page, "new-price-list_customerIds", customerName, customerName, { multiple: true });
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: listName }).waitFor();
  const listPath = new URL(page.url()).pathname;
  assert.match(listPath, /^\/price-lists\/.+/);

  // A price for the product, then changed in its row.
  await pick(page, "price-product", code, `${code} ${productName}`);
  await page.locator("#price-amount").fill("17.50");
  await page.locator("#price-add").click();
  const row = page.locator("#prices").getByRole("row", { name: new RegExp(code) });
  await row.filter({ hasText: "17.50" }).waitFor();
  await page.getByRole("button", { name: `Edit the price of ${code}` }).click();
  await page.getByRole("textbox", { name: `Price of ${code}` }).fill("16.80");
  await row.getByRole("button", { name: "Save" }).click();
  await row.filter({ hasText: "16.80" }).waitFor();
  // The list's end day set, against the etag the price changes moved on.
  await page.locator("#price-list_validUntil").click();
  await page.locator("#price-list_validUntil").fill("2099-12-31");
  await page.locator("#price-list_validUntil").press("Enter");
  await page.waitForFunction(() => ![...document.querySelectorAll(".ant-picker-dropdown")].some((d) => d.checkVisibility()));
  await page.locator("form#price-list button[type=submit]").click();
  await page.locator("#price-list-saved").waitFor();
  const id = listPath.split("/").pop();
  const { prices } = await rest(managerToken, "GET", `/v1/priceLists/${id}/prices`);
  assert.deepEqual(prices.map((p) => [p.productCode, p.price.amount]), [[code, "16.80"]]);
  const { priceList } = await rest(managerToken, "GET", `/v1/priceLists/${id}`);
  assert.deepEqual(priceList.customerIds, [customer.id]);
  assert.equal(priceList.priceCount, 1);
  assert.equal(priceList.validUntil, "2099-12-31");
  await everyLanguage(page, "pricing-list", (p) => p.locator("#prices").getByRole("cell", { name: code, exact: true }).waitFor());

  // The list among the lists.
  await page.getByRole("link", { name: "← All price lists" }).click();
  await page.locator("#price-lists").getByRole("row", { name: new RegExp(listName) }).filter({ hasText: customerName }).waitFor();
  await everyLanguage(page, "pricing-lists", (p) => p.getByRole("link", { name: listName }).waitFor());

  // The price check: the customer pays the list's price, another one the default sale price.
  await page.getByRole("menuitem", { name: "Price check" }).click();
  await page.getByRole("heading", { name: "Price check" }).waitFor();
  await pick(page, "check-customer", customerName, customerName);
  await page.locator("#check-level", { hasText: "Customer level: B" }).waitFor();
  await pick(page, "check-products", code, `${code} ${productName}`, { multiple: true });
  const checked = page.locator("#check-prices").getByRole("row", { name: new RegExp(code) });
  await checked.filter({ hasText: listName }).filter({ hasText: "16.80" }).waitFor();
  await everyLanguage(page, "pricing-check", (p) => p.locator("#check-prices").getByRole("link", { name: listName }).waitFor());
  await pick(page, "check-customer", otherName, otherName);
  await checked.filter({ hasText: "Default sale price" }).filter({ hasText: "20.00" }).waitFor();
  assert.deepEqual(page.cspViolations, []);
  await page.context().close();
});

test("a salesperson reads price lists without changing them", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"], displayName: `Reader ${suffix}` });
  const { priceList } = await rest(admin, "POST", "/v1/priceLists", { name: `E2E read-only ${suffix}`, kind: "PRICE_LIST_KIND_LEVEL", customerLevel: "C" });
  const page = await newPage("en-US");
  await signIn(page, seller.login, seller.password);
  await page.getByRole("menuitem", { name: "Price lists" }).click();
  await page.getByRole("link", { name: priceList.name }).click();
  await page.getByRole("heading", { name: priceList.name }).waitFor();
  await page.getByText("No product is priced on this list yet").waitFor();
  assert.equal(await page.getByRole("button", { name: "Save" }).count(), 0, "no form to change the list");
  assert.equal(await page.locator("#price-add").count(), 0, "no price to add");
  await page.getByRole("link", { name: "← All price lists" }).click();
  await page.getByRole("link", { name: priceList.name }).waitFor();
  assert.equal(await page.getByRole("button", { name: "New price list" }).count(), 0, "no list to create");
  await page.context().close();
});

test("a warehouse manager imports products from CSV, sees the bad row's error, and exports the search", async () => {
  const admin = await adminToken();
  const manager = await newEmployee(admin, { roles: ["warehouse_manager"], displayName: `Importer ${suffix}` });
  const token = await tokenFor(manager.login, manager.password);
  const good = `E2E-IM-${suffix}`;
  const csv = [
    "code,name,unit,units,sale_price,colour",
    `${good}-1,Imported pump ${suffix},pcs,box=12,35.00,red`,
    `${good}-2,Imported hose ${suffix},m,,not-a-price,blue`,
    `${good}-3,Imported seal ${suffix},pcs,,1.20,green`,
  ].join("\n");

  const page = await newPage("en-US");
  await signIn(page, manager.login, manager.password);
  await page.getByRole("menuitem", { name: "Products" }).click();
  await page.getByRole("heading", { name: "Products" }).waitFor();
  await page.getByRole("button", { name: "Import CSV" }).click();
  await page.getByRole("heading", { name: "Import products" }).waitFor();
  await page.locator("input[type=file]").setInputFiles({ name: `products-${suffix}.csv`, mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.locator("#import-preview").getByRole("cell", { name: `${good}-2` }).waitFor();
  await page.getByText("Update the product with the row's non-empty columns").click();
  await page.locator("#product-import-start").click();
  await page.locator("#import-counts", { hasText: "2 created, 0 updated, 0 skipped as duplicates, 1 refused" }).waitFor();
  await page.locator("#import-ignored", { hasText: "colour" }).waitFor();
  const error = page.locator("#import-errors").getByRole("row", { name: /sale_price/ });
  await error.filter({ hasText: "2" }).waitFor();
  assert.match(await error.innerText(), /decimal/);
  await everyLanguage(page, "products-import", (p) => p.locator("#import-errors").getByRole("cell", { name: "sale_price" }).waitFor());
  await page.getByRole("link", { name: "← Products" }).click();

  // The search exported: the two imported products only.
  // The search ranks by closeness, so it may find more than the imported products: the export
  // holds what the list's search finds (waited for: the list shows the search's rows only).
  const { products } = await rest(token, "GET", `/v1/products?pageSize=1000&query=${encodeURIComponent(good)}&filter=${encodeURIComponent('status = "active"')}`);
  await page.locator("#product-search").fill(good);
  await page.getByRole("link", { name: `${good}-3` }).waitFor();
  await page.waitForFunction((n) => document.querySelectorAll(".ant-table-tbody tr.ant-table-row").length === n, products.length);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
  const exported = (await readFile(await download.path(), "utf8")).trim().split("\n");
  assert.match(exported[0], /^id,code,name,/);
  assert.equal(exported.length, products.length + 1, "a header and the search's products");
  assert.ok(exported.some((l) => l.includes(`${good}-1`) && l.includes("box=12")), "the unit of the first product");
  assert.ok(exported.some((l) => l.includes(`${good}-3`)), "the third row's product");
  assert.ok(!exported.some((l) => l.includes(`${good}-2`)), "not the refused row's");
  assert.deepEqual(page.cspViolations, []);
  await page.context().close();
});
