// What the browser tests share: the browser, the REST calls a test makes to set up its data (as
// a script would), people with a given role, signing in through the console, the accessibility
// check and screenshots of a screen in each language.
//
// Environment: CRM_GATEWAY_URL (default http://127.0.0.1:8080), CRM_ADMIN_PASSWORD (the
// administrator's), CRM_CHROMIUM (default /usr/bin/chromium), CRM_SCREENSHOTS (default
// target/screenshots).

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";

export const base = process.env.CRM_GATEWAY_URL ?? "http://127.0.0.1:8080";
export const adminPassword = process.env.CRM_ADMIN_PASSWORD;
export const shots = process.env.CRM_SCREENSHOTS ?? "target/screenshots";

/** Each language: code, browser locale, and the picker's label for it. */
export const LANGUAGES = [
  { code: "en", locale: "en-US", name: "English" },
  { code: "zh", locale: "zh-CN", name: "中文" },
  { code: "es", locale: "es-ES", name: "Español" },
];

let browser;

/** Starts the browser before a file's tests and closes it after; returns a getter. */
export function useBrowser() {
  before(async () => {
    assert.ok(adminPassword, "CRM_ADMIN_PASSWORD names the administrator's password");
    mkdirSync(shots, { recursive: true });
    browser = await chromium.launch({ executablePath: process.env.CRM_CHROMIUM ?? "/usr/bin/chromium" });
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
}

/** A short suffix that makes a test's names its own. */
export function unique() {
  return `${Date.now() % 1_000_000}${Math.floor(Math.random() * 1000)}`;
}

/** A REST call with a bearer token; fails the test on a status other than `expect`. */
export async function rest(token, method, path, body, expect = 200) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.equal(response.status, expect, `${method} ${path}: ${text}`);
  return text ? JSON.parse(text) : {};
}

/** Signs in over REST; the access token. */
export async function tokenFor(login, password) {
  const answer = await rest(undefined, "POST", "/v1/auth/login", { login, password });
  return answer.tokens.accessToken;
}

export function adminToken() {
  return tokenFor("admin", adminPassword);
}

/**
 * A new employee holding `roles` (built-in role ids: `salesperson`, `sales_manager`, ...), in
 * `departmentId` (default: the first department), reporting to `managerId`. Returns
 * `{ id, login, password, displayName, departmentId }`.
 */
export async function newEmployee(admin, { roles, displayName, departmentId, managerId } = {}) {
  const suffix = unique();
  const login = `e2e.${suffix}`;
  const password = `pw-${suffix}-long`;
  if (!departmentId) {
    const { departments } = await rest(admin, "GET", "/v1/departments");
    departmentId = departments[0].id;
  }
  const { employee } = await rest(admin, "POST", "/v1/employees", {
    employee: {
      login,
      displayName: displayName ?? `E2E ${suffix}`,
      departmentId,
      managerId: managerId ?? "",
      roleIds: roles ?? ["salesperson"],
    },
    password,
  });
  return { id: employee.id, login, password, displayName: employee.displayName, departmentId };
}

/**
 * A page in a fresh context (browser locale `locale`) that records Content-Security-Policy
 * refusals in `page.cspViolations`.
 */
export async function newPage(locale = "en-US") {
  const context = await browser.newContext({ locale, viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.cspViolations = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) page.cspViolations.push(m.text());
  });
  return page;
}

/** Signs in through the sign-in screen and waits for the menu. */
export async function signIn(page, login, password) {
  await page.goto(base);
  await page.locator("#login").fill(login);
  await page.locator("#password").fill(password);
  await page.locator("button[type=submit]").click();
  await page.locator("nav [role=menu]").waitFor();
}

/** No serious or critical axe violations on the page as it stands, once its animations (a help
 * text fading out, a dialog zooming in) have finished: half-faded text is not what users read. */
export async function accessible(page, what) {
  await page.waitForFunction(() =>
    document.getAnimations().every((a) => a.playState !== "running" || a.effect?.getComputedTiming().iterations === Infinity),
  );
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `${what}: accessibility`,
  );
}

/** Chooses `language` (an entry of LANGUAGES) in the header's language picker. */
export async function chooseLanguage(page, language) {
  await page.locator("header .ant-select").first().click();
  await page.locator(".ant-select-dropdown:visible .ant-select-item-option", { hasText: language.name }).click();
  await page.waitForFunction((code) => document.documentElement.lang === code, language.code);
  // The closed list stays in the page; wait until it is hidden (axe reads what is shown). Other
  // selects' closed lists may come before it in the page: wait until no list is shown.
  await page.waitForFunction(() => ![...document.querySelectorAll(".ant-select-dropdown")].some((d) => d.checkVisibility()));
}

/**
 * The screen as it stands, in each language: switched in the picker, `ready(page, language)`
 * awaited (wait for something the screen shows in that language), checked with axe and
 * photographed as `<name>-<language>.png`. Leaves the page in English.
 */
export async function everyLanguage(page, name, ready = async () => {}) {
  for (const language of [...LANGUAGES.slice(1), LANGUAGES[0]]) {
    await chooseLanguage(page, language);
    await ready(page, language);
    // Let the menus and lists settle after the switch.
    await page.waitForLoadState("networkidle");
    await accessible(page, `${name} (${language.code})`);
    await page.screenshot({ path: `${shots}/${name}-${language.code}.png`, fullPage: true });
  }
  assert.deepEqual(page.cspViolations ?? [], [], `${name}: the page runs under its Content-Security-Policy`);
}
