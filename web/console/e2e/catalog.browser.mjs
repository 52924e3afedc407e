// The product catalog and warehouses, in a real browser against a running suite: a warehouse
// manager creates a category, one under it and a product with a "box" unit through the form (a
// zero factor refused on its field), sees a duplicate code refused with a link to the product
// that has it, finds the product by a piece of its name and by the category above its own,
// renames and moves a category, edits the product (only what changed; a change made meanwhile is
// said, then the edit succeeds on the reloaded product), discontinues and re-activates it;
// creates a warehouse with a keeper, closes and re-opens it. The keeper then signs in, sees only
// that warehouse and the product's stock in it (two boxes: 24 pieces), and is refused changing
// the factor of a unit in use. Each screen in each language (axe-checked and photographed).
//
//   CRM_ADMIN_PASSWORD=... node --test e2e/catalog.browser.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { accessible, adminToken, everyLanguage, newEmployee, newPage, rest, shots, signIn, tokenFor, unique, useBrowser } from "./lib.mjs";

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

const suffix = unique();
const code = `E2E-${suffix}`;
const name = `Hex bolt ${suffix} M8`;
const categoryName = `E2E fasteners ${suffix}`;
const subName = `E2E bolts ${suffix}`;
const warehouseCode = `E2E-WH-${suffix}`;
let manager;
let keeper;
let productId;

test("a warehouse manager creates a category and a product, is refused a duplicate, finds and edits it", async () => {
  const admin = await adminToken();
  manager = await newEmployee(admin, { roles: ["warehouse_manager"], displayName: `Manager ${suffix}` });
  keeper = await newEmployee(admin, { roles: ["warehouse_keeper"], displayName: `Keeper ${suffix}` });
  const managerToken = await tokenFor(manager.login, manager.password);

  const page = await newPage("en-US");
  await signIn(page, manager.login, manager.password);
  await page.getByRole("menuitem", { name: "Products" }).click();
  await page.getByRole("heading", { name: "Products" }).waitFor();

  // A category at the top and one under it (the chosen category is the new one's parent), through the form.
  await page.getByRole("button", { name: "New category" }).click();
  await page.locator("#category_name").fill(categoryName);
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await page.locator(".ant-tree").getByText(categoryName, { exact: true }).waitFor();
  await page.locator(".ant-modal").waitFor({ state: "detached" });
  await page.getByRole("button", { name: "New category" }).click();
  await page.locator("#category_name").fill(subName);
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await page.locator(".ant-tree").getByText(subName, { exact: true }).waitFor();
  const { categories } = await rest(managerToken, "GET", "/v1/productCategories");
  const category = categories.find((c) => c.name === categoryName);
  const sub = categories.find((c) => c.name === subName);
  assert.ok(category && sub, "the categories exist");
  assert.equal(category.parentId ?? "", "", "at the top");
  assert.equal(sub.parentId, category.id, "under the chosen one");
  assert.equal(sub.pathName, `${categoryName} / ${subName}`);

  // A product with a box of 12, through the form.
  await page.getByRole("button", { name: "New product" }).click();
  await page.locator("#new-product_code").fill(code);
  await page.locator("#new-product_name").fill(name);
  await page.locator("#new-product_specification").fill("M8×40");
  await page.locator("#new-product_unit").fill("pcs");
  await page.getByRole("button", { name: "Add a unit" }).click();
  await page.getByRole("textbox", { name: "Unit 1", exact: true }).fill("box");
  await pick(page, "new-product_categoryId", subName, `${categoryName} / ${subName}`);
  // A factor of zero: the service's violation lands on the row's field.
  await page.getByRole("textbox", { name: "Stock units in one 1" }).fill("0");
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await page.locator("#new-product_units_0_factor_help").getByText(/./).first().waitFor();
  await page.getByRole("textbox", { name: "Stock units in one 1" }).fill("12");
  await page.locator("[data-testid=unit-hint-0]", { hasText: "1 box = 12 pcs" }).waitFor();
  await page.locator("#new-product_brand").fill("Fastco");
  await page.locator("#new-product_salePrice").fill("2.50");
  await page.locator("#new-product_taxRate").fill("13");
  await page.locator("#new-product_standardCost").fill("1.2");
  await accessible(page, "the new product form");
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: `${code} ${name}` }).waitFor();
  productId = new URL(page.url()).pathname.split("/").pop();
  const { product } = await rest(managerToken, "GET", `/v1/products/${productId}`);
  assert.equal(product.code, code);
  assert.equal(product.unit, "pcs");
  assert.equal(product.units.length, 1);
  assert.equal(product.units[0].name, "box");
  assert.equal(Number(product.units[0].factor), 12);
  assert.equal(product.categoryId, sub.id);
  assert.equal(Number(product.salePrice.amount), 2.5);
  await page.locator("[data-testid=product-units]", { hasText: "1 box = 12 pcs" }).waitFor();

  // The same code again: refused, naming the product that has it.
  await page.getByRole("menuitem", { name: "Products" }).click();
  await page.getByRole("button", { name: "New product" }).click();
  await page.locator("#new-product_code").fill(code);
  await page.locator("#new-product_name").fill(`Another ${suffix}`);
  await page.locator("#new-product_unit").fill("pcs");
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  const duplicate = page.locator("#duplicate-product");
  await duplicate.waitFor();
  assert.match(await duplicate.textContent(), new RegExp(code));
  assert.equal(await duplicate.getByRole("link", { name: "Open it" }).getAttribute("href"), `/products/${productId}`);
  await page.locator("#new-product_code_help", { hasText: "Another product has this code" }).waitFor();
  // The drawer covers the language picker: checked and photographed in English.
  await accessible(page, "the duplicate refusal");
  await page.screenshot({ path: `${shots}/catalog-duplicate-product-en.png`, fullPage: true });
  await page.locator(".ant-drawer").getByRole("button", { name: "Cancel" }).click();

  // Found by a piece of its name, and by the category above its own.
  await page.locator(".ant-tree").getByText("All categories", { exact: true }).click();
  await page.locator("#product-search").fill(`bolt ${suffix}`);
  await page.getByRole("link", { name: code }).waitFor();
  await page.locator("#product-search").fill("");
  await page.locator(".ant-tree").getByText(categoryName, { exact: true }).click();
  await page.getByRole("link", { name: code }).waitFor();
  assert.equal(await page.locator(".ant-table-tbody tr.ant-table-row").count(), 1, "only the category's product");
  await everyLanguage(page, "catalog-products", (p) => p.getByRole("link", { name: code }).waitFor());

  // The sub-category renamed and moved to the top.
  await page.locator(".ant-tree").getByText(subName, { exact: true }).click();
  await page.getByRole("button", { name: `Edit category ${subName}` }).click();
  await page.locator("#category_name").fill(`${subName} renamed`);
  await page.locator(".ant-modal .ant-select").hover();
  await page.locator(".ant-modal .ant-select-clear").click();
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  await page.locator(".ant-tree").getByText(`${subName} renamed`, { exact: true }).waitFor();
  const { categories: moved } = await rest(managerToken, "GET", "/v1/productCategories");
  const after = moved.find((c) => c.id === sub.id);
  assert.equal(after.name, `${subName} renamed`);
  assert.equal(after.parentId ?? "", "", "moved to the top");
  assert.equal(after.depth ?? 0, 0);
  await page.locator(".ant-tree").getByText("All categories", { exact: true }).click();

  // Edited: someone changes it meanwhile, the save is refused with a clear message; reloaded, it succeeds.
  await page.getByRole("link", { name: code }).click();
  await page.getByRole("heading", { name: `${code} ${name}` }).waitFor();
  await page.getByRole("button", { name: "Edit" }).click();
  await page.locator("#edit-product_brand").fill("Fastco Pro");
  const { product: now } = await rest(managerToken, "GET", `/v1/products/${productId}`);
  await rest(managerToken, "PATCH", `/v1/products/${productId}?updateMask=remark`, { remark: "changed meanwhile", etag: now.etag });
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await page.locator("[data-testid=stale]").waitFor();
  await page.getByRole("button", { name: "Reload" }).click();
  await page.getByText("changed meanwhile").waitFor();
  await page.getByRole("button", { name: "Edit" }).click();
  await page.locator("#edit-product_brand").fill("Fastco Pro");
  await page.locator("#edit-product_salePrice").fill("2.80");
  await page.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await page.locator(".ant-descriptions").getByText("Fastco Pro").waitFor();
  const { product: edited } = await rest(managerToken, "GET", `/v1/products/${productId}`);
  assert.equal(edited.brand, "Fastco Pro");
  assert.equal(Number(edited.salePrice.amount), 2.8);
  assert.equal(edited.remark, "changed meanwhile", "the other change stays");
  assert.equal(edited.name, name);

  // Discontinued, then offered again.
  await page.getByRole("button", { name: "Discontinue" }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Discontinue" }).click();
  await page.locator("[data-testid=product-status]", { hasText: "Discontinued" }).waitFor();
  assert.equal((await rest(managerToken, "GET", `/v1/products/${productId}`)).product.status, "PRODUCT_STATUS_DISCONTINUED");
  await page.getByRole("button", { name: "Re-activate" }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Re-activate" }).click();
  await page.locator("[data-testid=product-status]", { hasText: "Active" }).waitFor();
  await page.context().close();
});

test("the manager creates a warehouse with a keeper, who sees only that warehouse and its stock", async () => {
  assert.ok(productId, "the first test made the product");
  const managerToken = await tokenFor(manager.login, manager.password);
  const page = await newPage("en-US");
  await signIn(page, manager.login, manager.password);
  await page.getByRole("menuitem", { name: "Warehouses" }).click();
  await page.getByRole("heading", { name: "Warehouses" }).waitFor();
  await page.getByRole("button", { name: "New warehouse" }).click();
  await page.locator("#warehouse_code").fill(warehouseCode);
  await page.locator("#warehouse_name").fill(`E2E warehouse ${suffix}`);
  await page.locator("#warehouse_address").fill("1 Dock Road");
  await pick(page, "warehouse_keeperIds", keeper.displayName, `${keeper.displayName} (${keeper.login})`, { multiple: true });
  await page.locator("#warehouse_allowNegativeStock").click();
  await accessible(page, "the new warehouse form");
  await page.locator(".ant-modal").getByRole("button", { name: "Save" }).click();
  const row = page.getByRole("row").filter({ has: page.getByRole("cell", { name: warehouseCode, exact: true }) });
  await row.getByText(keeper.displayName).waitFor();
  const { warehouses } = await rest(managerToken, "GET", "/v1/warehouses");
  const created = warehouses.find((w) => w.code === warehouseCode);
  assert.deepEqual(created?.keeperIds, [keeper.id]);
  assert.equal(created.allowNegativeStock, true);
  await everyLanguage(page, "catalog-warehouses", (p) => p.getByRole("cell", { name: warehouseCode, exact: true }).waitFor());

  // Closed and re-opened.
  await page.getByRole("button", { name: `Close ${warehouseCode}` }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Close" }).click();
  await row.getByText("Closed").waitFor();
  await page.getByRole("button", { name: `Re-open ${warehouseCode}` }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Re-open" }).click();
  await row.getByText("Open", { exact: true }).waitFor();
  await page.context().close();

  // Two boxes come in (12 pieces each), posted over REST as a script would.
  await rest(managerToken, "POST", "/v1/stockDocuments", {
    document: { kind: "DOCUMENT_KIND_OPENING", warehouseId: created.id, lines: [{ productId, quantity: "2", unit: "box", unitCost: { currencyCode: "CNY", amount: "14.40" } }] },
    post: true,
    requestId: `e2e-opening-${suffix}`,
  });
  // And one box into a warehouse the keeper does not keep.
  const { warehouse: other } = await rest(managerToken, "POST", "/v1/warehouses", { code: `E2E-OTHER-${suffix}`, name: `E2E other ${suffix}` });
  await rest(managerToken, "POST", "/v1/stockDocuments", {
    document: { kind: "DOCUMENT_KIND_OPENING", warehouseId: other.id, lines: [{ productId, quantity: "1", unit: "box" }] },
    post: true,
    requestId: `e2e-opening-other-${suffix}`,
  });

  // The keeper sees only the warehouse they keep, and the product's stock in it.
  const keeperPage = await newPage("en-US");
  await signIn(keeperPage, keeper.login, keeper.password);
  await keeperPage.getByRole("menuitem", { name: "Warehouses" }).click();
  await keeperPage.getByRole("cell", { name: warehouseCode, exact: true }).waitFor();
  assert.equal(await keeperPage.locator(".ant-table-tbody tr.ant-table-row").count(), 1, "only the warehouse they keep");
  assert.equal(await keeperPage.getByRole("button", { name: "New warehouse" }).count(), 0, "a keeper does not create warehouses");
  await accessible(keeperPage, "the keeper's warehouses");
  await keeperPage.getByRole("menuitem", { name: "Products" }).click();
  await keeperPage.locator("#product-search").fill(code);
  await keeperPage.getByRole("link", { name: code }).click();
  const stockRow = keeperPage.getByRole("row").filter({ has: keeperPage.getByRole("cell", { name: `${warehouseCode} E2E warehouse ${suffix}` }) });
  await stockRow.getByRole("cell", { name: "24", exact: true }).first().waitFor();
  assert.equal(await keeperPage.locator("section .ant-table-tbody tr.ant-table-row").count(), 1, "stock in their warehouse only");
  await everyLanguage(keeperPage, "catalog-product", (p) => p.locator("section .ant-table-tbody tr.ant-table-row").first().waitFor());

  // Once it has moved, its box keeps its factor: the service's refusal is shown under the units.
  await keeperPage.getByRole("button", { name: "Edit" }).click();
  await keeperPage.getByRole("textbox", { name: "Stock units in one 1" }).fill("10");
  await keeperPage.locator(".ant-drawer").getByRole("button", { name: "Save" }).click();
  await keeperPage.locator("#units-errors", { hasText: "cannot change" }).waitFor();
  await accessible(keeperPage, "a refused edit");
  await keeperPage.locator(".ant-drawer").getByRole("button", { name: "Cancel" }).click();
  const { product: kept } = await rest(managerToken, "GET", `/v1/products/${productId}`);
  assert.equal(Number(kept.units[0].factor), 12, "the factor is kept");
  await keeperPage.context().close();
});
