// The web console's timings, measured in the browser (Debian's chromium through playwright-core)
// against a running suite, each beside its baseline measured in the same run:
//
// - navigation to a usable customers list: from submitting the sign-in form on /customers to 50
//   rendered rows (the screen's code loaded, the session made, the first page fetched and
//   drawn; the session lives in memory, so opening the console is signing in), against the
//   sign-in and list calls alone over REST;
// - search as you type: from the last keystroke of a query typed at a person's pace to the
//   rendered results for it (the first row shows the typed piece), against the same search over
//   REST.
//
//   node tests/bench/console.mjs --gateway http://127.0.0.1:8080 --password ADMIN_PASSWORD \
//     [--seed 1000000] [--runs 40]
//
// `--seed N` first imports N generated customers (names shaped like the Rust benchmarks': city,
// two words, a trade, a serial, a suffix; a mobile) through the gateway's CSV import, in files of
// 100,000 rows. Prints p50/p95 and the ratio to the baseline. `--smoke` makes few runs.

import { chromium } from "../../web/console/node_modules/playwright-core/index.mjs";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]?.startsWith("--") ? "1" : (all[i + 1] ?? "1")]] : pairs), []),
);
const gateway = args.gateway ?? process.env.CRM_GATEWAY_URL ?? "http://127.0.0.1:8080";
const password = args.password ?? process.env.CRM_ADMIN_PASSWORD;
const smoke = "smoke" in args;
const runs = Number(args.runs ?? (smoke ? 5 : 40));
if (!password) throw new Error("--password (or CRM_ADMIN_PASSWORD) is the administrator's password");

const CITIES = ["深圳市", "广州市", "北京", "上海", "杭州", "成都", "武汉", "南京", "苏州", "西安", "Madrid", "Barcelona", "Valencia"];
const WORDS = ["腾飞", "华强", "创新", "远航", "金达", "宏图", "瑞丰", "恒信", "天成", "博远", "中科", "新锐", "鼎盛", "嘉禾", "永安", "盛世", "东方", "蓝海", "Global", "Nova", "Iberia", "Solar", "Delta", "Alpha", "Orion", "Atlas", "Vértice", "Norte"];
const TRADES = ["科技", "电子", "贸易", "机械", "物流", "软件", "医疗", "食品", "建材", "Trading", "Systems", "Logistics"];
const SUFFIXES = ["有限公司", "股份有限公司", "集团", " S.L.", " Co., Ltd.", ""];

let state = 0x2545f4914f6cdd1dn;
function next() {
  state ^= state << 13n;
  state &= 0xffffffffffffffffn;
  state ^= state >> 7n;
  state ^= state << 17n;
  state &= 0xffffffffffffffffn;
  return state;
}
const pick = (items) => items[Number(next() % BigInt(items.length))];

async function rest(token, method, path, body, contentType = "application/json") {
  const started = performance.now();
  const response = await fetch(`${gateway}${path}`, {
    method,
    headers: { "content-type": contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return { json: text ? JSON.parse(text) : {}, ms: performance.now() - started };
}

async function signIn() {
  const { json } = await rest(undefined, "POST", "/v1/auth/login", JSON.stringify({ login: "admin", password }));
  return json.tokens.accessToken;
}

async function seed(token, n) {
  const batch = 100_000;
  const started = performance.now();
  for (let from = 0; from < n; from += batch) {
    const lines = ["name,level_code,region.city,contact.name,contact.mobile"];
    for (let i = from; i < Math.min(n, from + batch); i++) {
      const city = pick(CITIES);
      const name = `${city}${pick(WORDS)}${pick(WORDS)}${pick(TRADES)}${i}号${pick(SUFFIXES)}`;
      const mobile = `13${String(next() % 1_000_000_000n).padStart(9, "0")}`;
      lines.push(`"${name}",${"ABCD"[i % 4]},${city},联系人${i},${mobile}`);
    }
    const { json } = await rest(token, "POST", "/v1/customers:import", lines.join("\n") + "\n", "text/csv");
    process.stdout.write(`seeded ${Math.min(n, from + batch)} (${JSON.stringify(json.created ?? json.written ?? json)})\n`);
  }
  const s = (performance.now() - started) / 1000;
  console.log(`seed: ${n} customers in ${s.toFixed(1)} s (${Math.round(n / s)} rows/s)`);
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
}

function report(what, browser, baseline) {
  const b95 = percentile(browser, 0.95);
  const r95 = percentile(baseline, 0.95);
  console.log(
    `${what}: browser p50 ${percentile(browser, 0.5).toFixed(1)} ms, p95 ${b95.toFixed(1)} ms; ` +
      `REST call alone p50 ${percentile(baseline, 0.5).toFixed(1)} ms, p95 ${r95.toFixed(1)} ms; ratio p95 ${(b95 / r95).toFixed(2)}x`,
  );
}

if (args.seed) await seed(await signIn(), Number(args.seed));
// A fresh token for the timings (a long seed outlives the first).
const token = await signIn();

// The pieces people type: a word, a city, a trade, a serial's digits, a mobile fragment.
const queries = [];
for (let i = 0; i < runs; i++) {
  const kind = i % 4;
  queries.push(kind === 0 ? pick(WORDS) + pick(WORDS) : kind === 1 ? `${pick(CITIES)}${pick(WORDS)}` : kind === 2 ? `${100 + i * 7}号` : pick(WORDS));
}

const browser = await chromium.launch({ executablePath: process.env.CRM_CHROMIUM ?? "/usr/bin/chromium" });
const navigation = [];
const navigationBaseline = [];
const search = [];
const searchBaseline = [];
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    await page.goto(`${gateway}/customers`);
    await page.locator("#login").fill("admin");
    await page.locator("#password").fill(password);
    const started = await page.evaluate(() => performance.now());
    await page.locator("button[type=submit]").click();
    await page.waitForFunction(() => document.querySelectorAll("#root .ant-table-tbody tr.ant-table-row").length >= 50, null, {
      polling: "raf",
      timeout: 60_000,
    });
    navigation.push((await page.evaluate(() => performance.now())) - started);
    // What the screen cannot do without: the sign-in and the first page, over REST.
    const login = await rest(undefined, "POST", "/v1/auth/login", JSON.stringify({ login: "admin", password }));
    navigationBaseline.push(login.ms + (await rest(token, "GET", "/v1/customers?pageSize=50")).ms);

    // Search as you type: a person's pace, then the time from the last key to its results.
    const query = queries[i];
    const input = page.locator("#customer-search");
    await input.click();
    await input.pressSequentially(query.slice(0, -1), { delay: 120 });
    const typed = await page.evaluate(() => performance.now());
    await input.pressSequentially(query.slice(-1));
    const found = await page.waitForFunction(
      (q) => {
        const rows = document.querySelectorAll("#root .ant-table-tbody tr.ant-table-row");
        const empty = document.querySelector("#root .ant-table-tbody .ant-table-placeholder");
        const first = rows[0]?.textContent ?? "";
        return (rows.length > 0 && first.toLowerCase().includes(q.toLowerCase()) && !document.querySelector("#root .ant-spin-spinning")) || empty
          ? performance.now()
          : false;
      },
      query,
      { polling: "raf", timeout: 60_000 },
    );
    search.push((await found.jsonValue()) - typed);
    searchBaseline.push((await rest(token, "GET", `/v1/customers?pageSize=50&query=${encodeURIComponent(query)}`)).ms);
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(`console timings over ${runs} runs (${gateway})`);
report("sign-in on /customers to 50 rendered customers (baseline: sign-in and list calls)", navigation, navigationBaseline);
report("search as you type, last key to results", search, searchBaseline);
