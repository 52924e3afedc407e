// Languages, chosen from the browser's preferences, and formatting by locale. Every text is in
// a locale file, one per area of the console: src/i18n/<language>/<area>.json. A language is one
// more folder and one line here; a screen's texts are one more file in each folder.

type Texts = Record<string, string>;

// The sign-in screen needs only the common texts, which come with the first screen's script;
// the other areas' files load beside the signed-in console (`loadAreas`).
const COMMON = import.meta.glob<Texts>("./*/common.json", { eager: true, import: "default" });
const AREAS = import.meta.glob<Texts>(["./*/*.json", "!./*/common.json"], { import: "default" });
const FILES: Record<string, Texts> = { ...COMMON };

/** Every loaded area's texts of one language, merged (a key defined twice is a mistake the tests catch). */
export function textsOf(folder: string): Texts {
  const texts: Texts = {};
  for (const [path, area] of Object.entries(FILES)) {
    if (path.startsWith(`./${folder}/`)) Object.assign(texts, area);
  }
  return texts;
}

/** The keys defined in more than one area file of a language. */
export function repeatedKeys(folder: string): string[] {
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const [path, area] of Object.entries(FILES)) {
    if (!path.startsWith(`./${folder}/`)) continue;
    for (const key of Object.keys(area)) {
      if (seen.has(key)) repeated.push(key);
      seen.add(key);
    }
  }
  return repeated;
}

export const LANGUAGES = {
  en: { name: "English", tag: "en-US", texts: textsOf("en") },
  zh: { name: "中文", tag: "zh-CN", texts: textsOf("zh") },
  es: { name: "Español", tag: "es-ES", texts: textsOf("es") },
} as const;

let areas: Promise<void> | undefined;

/** Loads every area's texts of every language (once; the signed-in console waits for it). */
export function loadAreas(): Promise<void> {
  areas ??= Promise.all(
    Object.entries(AREAS).map(async ([path, load]) => {
      FILES[path] = await load();
    }),
  ).then(() => {
    for (const [folder, language] of Object.entries(LANGUAGES)) Object.assign(language.texts, textsOf(folder));
  });
  return areas;
}

export type Language = keyof typeof LANGUAGES;

/** The first of the browser's languages the console speaks, else English. */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if (base in LANGUAGES) return base as Language;
  }
  return "en";
}

/** The text `key` in `language`, with `{name}` placeholders filled; the key itself if missing. */
export function translate(language: Language, key: string, values: Record<string, string> = {}): string {
  const text = LANGUAGES[language].texts[key] ?? LANGUAGES.en.texts[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? `{${name}}`);
}

// Making an Intl formatter costs far more than using one (a table of 50 rows formats hundreds
// of cells): one per language, kind and currency, kept.
const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function formatter<F extends Intl.DateTimeFormat | Intl.NumberFormat>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (!f) {
    f = make();
    formatters.set(key, f);
  }
  return f;
}

/** A calendar date as the language writes it. */
export function formatDate(language: Language, at: Date): string {
  const tag = LANGUAGES[language].tag;
  return formatter(`date:${tag}`, () => new Intl.DateTimeFormat(tag, { dateStyle: "medium" })).format(at);
}

/** A point in time as the language writes it (date and minutes). */
export function formatTime(language: Language, at: Date): string {
  const tag = LANGUAGES[language].tag;
  return formatter(`time:${tag}`, () => new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeStyle: "short" })).format(at);
}

/** An amount of money (a decimal string, as the contracts carry it) in its currency. */
export function formatMoney(language: Language, amount: string, currency: string): string {
  const tag = LANGUAGES[language].tag;
  const format = formatter(`money:${tag}:${currency}`, () => new Intl.NumberFormat(tag, { style: "currency", currency }));
  // Exact for the amounts a CRM holds: Intl takes decimal strings without going through floats.
  return format.format(amount as unknown as number);
}

/** A count as the language groups digits. */
export function formatNumber(language: Language, n: number): string {
  const tag = LANGUAGES[language].tag;
  return formatter(`number:${tag}`, () => new Intl.NumberFormat(tag)).format(n);
}
