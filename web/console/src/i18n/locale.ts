// Languages, chosen from the browser's preferences, and formatting by locale. Every text is in
// a locale file (src/i18n/<language>.json): a language is one more file and one line here.

import en from "./en.json";
import es from "./es.json";
import zh from "./zh.json";

export const LANGUAGES = {
  en: { name: "English", tag: "en-US", texts: en as Record<string, string> },
  zh: { name: "中文", tag: "zh-CN", texts: zh as Record<string, string> },
  es: { name: "Español", tag: "es-ES", texts: es as Record<string, string> },
} as const;

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

/** A point in time as the language writes it (date and minutes). */
export function formatTime(language: Language, at: Date): string {
  return new Intl.DateTimeFormat(LANGUAGES[language].tag, { dateStyle: "medium", timeStyle: "short" }).format(at);
}

/** An amount of money (a decimal string, as the contracts carry it) in its currency. */
export function formatMoney(language: Language, amount: string, currency: string): string {
  const format = new Intl.NumberFormat(LANGUAGES[language].tag, { style: "currency", currency });
  // Exact for the amounts a CRM holds: Intl takes decimal strings without going through floats.
  return format.format(amount as unknown as number);
}

/** A count as the language groups digits. */
export function formatNumber(language: Language, n: number): string {
  return new Intl.NumberFormat(LANGUAGES[language].tag).format(n);
}
