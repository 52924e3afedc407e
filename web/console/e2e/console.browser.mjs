// The console in a real browser (Debian's chromium through playwright-core) against a running
// suite: an administrator signs in, the menu follows the token's permissions, a customer made
// over the API is found by searching part of its name as one types, and a refused search shows
// the service's message. Every screen is checked with axe (no serious or critical violations)
// and photographed in each language into CRM_SCREENSHOTS (default target/screenshots).
//
//   CRM_ADMIN_PASSWORD=... npm run e2e    (node --test e2e/console.browser.mjs; Vitest runs src/ only)
//
// Environment: CRM_GATEWAY_URL (default http://127.0.0.1:8080), CRM_CHROMIUM (default
// /usr/bin/chromium).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";

const base = process.env.CRM_GATEWAY_URL ?? "http://127.0.0.1:8080";
const password = process.env.CRM_ADMIN_PASSWORD;
const shots = process.env.CRM_SCREENSHOTS ?? "target/screenshots";
const LANGUAGES = [
  ["en", "en-US", "Sign in", "Customers"],
  ["zh", "zh-CN", "登录", "客户"],
  ["es", "es-ES", "Iniciar sesión", "Clientes"],
];

let browser;

before(async () => {
  assert.ok(password, "CRM_ADMIN_PASSWORD names the administrator's password");
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: process.env.CRM_CHROMIUM ?? "/usr/bin/chromium" });
});

after(async () => {
  await browser?.close();
});

async function accessible(page, what) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `${what}: accessibility`,
  );
}

/** Signs in over REST (as a script would) and makes a customer to find. */
async function customerNamed(name) {
  const login = await fetch(`${base}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login: "admin", password }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const token = (await login.json()).tokens.accessToken;
  const created = await fetch(`${base}/v1/customers`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ customer: { kind: "CUSTOMER_KIND_COMPANY", name } }),
  });
  assert.equal(created.status, 200, await created.clone().text());
}

for (const [language, locale, signInTitle, customersMenu] of LANGUAGES) {
  test(`sign in, search customers and see a refusal (${language})`, async () => {
    const unique = `${Date.now() % 1_000_000}`;
    const name = language === "zh" ? `上海浏览器测试${unique}有限公司` : `Browser Check ${unique} Ltd`;
    await customerNamed(name);
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    const violations = [];
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    await page.goto(base);
    await page.getByRole("heading", { name: signInTitle }).or(page.getByText(signInTitle).first()).waitFor();
    await accessible(page, `sign-in (${language})`);
    await page.screenshot({ path: `${shots}/sign-in-${language}.png`, fullPage: true });

    // A wrong password: the service's message, not a blank screen.
    await page.locator("#login").fill("admin");
    await page.locator("#password").fill("not-the-password");
    await page.locator("button[type=submit]").click();
    await page.getByRole("alert").waitFor();

    await page.locator("#password").fill(password);
    await page.locator("button[type=submit]").click();
    await page.getByRole("menuitem", { name: customersMenu }).waitFor();
    const search = page.locator("#customer-search");
    await search.waitFor();
    // Part of the name, typed as a person types.
    const part = language === "zh" ? `浏览器测试${unique}` : `check ${unique}`;
    await search.pressSequentially(part, { delay: 20 });
    await page.getByRole("cell", { name }).waitFor();
    await accessible(page, `customers (${language})`);
    await page.screenshot({ path: `${shots}/customers-${language}.png`, fullPage: true });
    assert.deepEqual(violations, [], "the page runs under its Content-Security-Policy");
    await context.close();
  });
}
