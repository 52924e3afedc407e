// Signing in and the first screen, in a real browser against a running suite: a wrong password
// shows the service's message; a salesperson's menu follows the token's permissions (no
// administration); a customer made over the API is found by typing part of its name, in each
// language (the browser's language picks the first one); sign-out returns to the sign-in screen.
//
//   CRM_ADMIN_PASSWORD=... npm run e2e    (Vitest runs src/ only)

import { test } from "node:test";
import assert from "node:assert/strict";
import { accessible, adminToken, base, everyLanguage, LANGUAGES, newEmployee, newPage, rest, shots, unique, useBrowser } from "./lib.mjs";

useBrowser();

const SIGN_IN = { en: "Sign in", zh: "登录", es: "Iniciar sesión" };

test("sign-in follows the browser's language and shows a refusal", async () => {
  for (const language of LANGUAGES) {
    const page = await newPage(language.locale);
    await page.goto(base);
    await page.getByRole("heading", { name: SIGN_IN[language.code] }).or(page.getByText(SIGN_IN[language.code]).first()).waitFor();
    await accessible(page, `sign-in (${language.code})`);
    await page.screenshot({ path: `${shots}/sign-in-${language.code}.png`, fullPage: true });
    // A wrong password: the service's message, not a blank screen.
    await page.locator("#login").fill("admin");
    await page.locator("#password").fill("not-the-password");
    await page.locator("button[type=submit]").click();
    await page.getByRole("alert").waitFor();
    assert.deepEqual(page.cspViolations, [], "the page runs under its Content-Security-Policy");
    await page.context().close();
  }
});

test("a salesperson searches customers as they type; the menu follows the permissions", async () => {
  const admin = await adminToken();
  const seller = await newEmployee(admin, { roles: ["salesperson"] });
  const id = unique();
  const name = `上海浏览器测试${id}有限公司`;
  const sellerToken = (await rest(undefined, "POST", "/v1/auth/login", { login: seller.login, password: seller.password })).tokens.accessToken;
  await rest(sellerToken, "POST", "/v1/customers", { customer: { kind: "CUSTOMER_KIND_COMPANY", name } });

  const page = await newPage("en-US");
  await page.goto(base);
  await page.locator("#login").fill(seller.login);
  await page.locator("#password").fill(seller.password);
  await page.locator("button[type=submit]").click();
  await page.getByRole("menuitem", { name: "Customers" }).click();
  assert.equal(await page.getByRole("menuitem", { name: "Employees" }).count(), 0, "no administration for a salesperson");
  const search = page.locator("#customer-search");
  // Part of the name, typed as a person types.
  await search.pressSequentially(`浏览器测试${id}`, { delay: 20 });
  await page.getByRole("cell", { name }).waitFor();
  await everyLanguage(page, "customers", async (p) => p.getByRole("cell", { name }).waitFor());

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.locator("#login").waitFor();
  await page.context().close();
});
