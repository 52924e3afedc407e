// Stock reports, in a real browser against a running suite: a warehouse manager with stock of a
// new product in two new warehouses (opened by REST, as a script would) sees the product's row
// in the slow-moving and dead stock report of one warehouse, with its class, and exports it as
// CSV; compares the two warehouses side by side (a column group each, and the totals) and
// exports that; and exports the stock levels. Each tab in each language (axe-checked and
// photographed).
//
//   CRM_ADMIN_PASSWORD=... node --test e2e/stockreports.browser.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { adminToken, everyLanguage, newEmployee, newPage, rest, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

useBrowser();

/** Opens the antd Select whose input is `#id`, types `text` and picks the option titled `title`. */
async function pick(page, id, text, title, { multiple = false } = {}) {
  await page.locator(".ant-select-selector", { has: page.locator(`#${id}`) }).click();
  await page.locator(`#${id}`).fill(text);
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option[title="${title}"]`).click();
  if (multiple) await page.locator(`#${id}`).press("Escape");
  await page.waitForFunction(() => !document.querySelector(".ant-select-dropdown:not(.ant-select-dropdown-hidden)"));
}

/** Clicks `button` and reads the CSV it downloads. */
async function downloaded(page, button) {
  const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
  return readFile(await download.path(), "utf8");
}

const CLASS = { en: "Slow", zh: "滞销", es: "Lenta" };
const DEAD = { en: "Dead", zh: "呆滞", es: "Sin movimiento" };

test("a warehouse manager reads and exports slow-moving stock and the warehouse comparison", async () => {
  const admin = await adminToken();
  const suffix = unique();
  const manager = await newEmployee(admin, { roles: ["warehouse_manager"], displayName: `Reporter ${suffix}` });
  const token = await tokenFor(manager.login, manager.password);
  const code = `E2E-SR-${suffix}`;
  const { product } = await rest(token, "POST", "/v1/products", { code, name: `Reported gear ${suffix}`, unit: "pcs", standardCost: { currencyCode: "CNY", amount: "3.00" } });
  const house = async (c, name) => (await rest(token, "POST", "/v1/warehouses", { code: c, name })).warehouse;
  const north = await house(`E2E-SRN-${suffix}`, `North ${suffix}`);
  const south = await house(`E2E-SRS-${suffix}`, `South ${suffix}`);
  for (const [w, quantity] of [[north, "40"], [south, "15"]]) {
    await rest(token, "POST", "/v1/stockDocuments", {
      document: { kind: "DOCUMENT_KIND_OPENING", warehouseId: w.id, lines: [{ productId: product.id, quantity }] },
      post: true,
      requestId: crypto.randomUUID(),
    });
  }
  const { rows } = await rest(token, "GET", `/v1/stockMovement?filter=${encodeURIComponent(`product_id = "${product.id}"`)}`);
  assert.equal(rows.length, 2, "a row per warehouse with stock");
  const expected = rows[0].class === "MOVEMENT_CLASS_DEAD" ? DEAD : CLASS;

  const page = await newPage("en-US");
  await signIn(page, manager.login, manager.password);
  await page.getByRole("menuitem", { name: "Stock reports" }).click();
  await page.getByRole("heading", { name: "Stock reports" }).waitFor();

  // Slow-moving and dead stock of one warehouse: the product's row with its class.
  await pick(page, "movement-warehouse", north.code, `${north.code} ${north.name}`);
  const row = page.locator("#movement-rows").getByRole("row", { name: new RegExp(code) });
  await row.filter({ hasText: `${north.code} ${north.name}` }).filter({ hasText: "40" }).waitFor();
  await row.locator(".ant-tag", { hasText: expected.en }).waitFor();
  assert.equal(await page.locator("#movement-rows").getByRole("row", { name: new RegExp(south.code) }).count(), 0, "the other warehouse left out");
  await page.locator("#movement-period").fill("30");
  await row.waitFor();
  const movement = await downloaded(page, page.locator("#movement-export"));
  assert.match(movement.split("\n")[0], /^warehouse_id,product_id,product_code,/);
  assert.equal(movement.trim().split("\n").filter((l) => l.includes(code)).length, 1, "the export holds the warehouse chosen only");
  await everyLanguage(page, "stockreports-movement", (p, language) =>
    p.locator("#movement-rows").getByRole("row", { name: new RegExp(code) }).locator(".ant-tag", { hasText: expected[language.code] }).waitFor(),
  );

  // The two warehouses side by side.
  await page.getByRole("tab", { name: "Warehouse comparison" }).click();
  await pick(page, "compare-warehouses", north.code, `${north.code} ${north.name}`, { multiple: true });
  await pick(page, "compare-warehouses", south.code, `${south.code} ${south.name}`, { multiple: true });
  await page.locator("#compare-rows thead th", { hasText: `${north.code} ${north.name}` }).waitFor();
  await page.locator("#compare-rows thead th", { hasText: `${south.code} ${south.name}` }).waitFor();
  const compared = page.locator("#compare-rows").getByRole("row", { name: new RegExp(code) });
  await compared.filter({ hasText: "55" }).waitFor();
  const comparison = await downloaded(page, page.locator("#compare-export"));
  assert.ok(comparison.includes(code), "the comparison export holds the product");
  await everyLanguage(page, "stockreports-comparison", (p) => p.locator("#compare-rows").getByRole("cell", { name: code, exact: true }).waitFor());

  // The stock levels as CSV.
  const levels = await downloaded(page, page.locator("#export-levels"));
  assert.match(levels.split("\n")[0], /^warehouse_id,product_id,/);
  assert.ok(levels.includes(product.id), "the levels export holds the product");
  assert.deepEqual(page.cspViolations, []);
  await page.context().close();
});
