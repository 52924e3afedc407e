// Quantities and percentages are exact decimal strings: shown grouped as the language writes
// numbers, without going through floats (Intl takes the string as it is).

import { LANGUAGES, type Language } from "../../i18n/locale";

const formatters = new Map<string, Intl.NumberFormat>();

/** A decimal string (a quantity, up to 4 places) as the language writes it; other text as is. */
export function formatDecimal(language: Language, value: string): string {
  const v = value.trim();
  if (!/^-?\d+(\.\d+)?$/.test(v)) return v;
  const tag = LANGUAGES[language].tag;
  let f = formatters.get(tag);
  if (!f) {
    f = new Intl.NumberFormat(tag, { maximumFractionDigits: 4 });
    formatters.set(tag, f);
  }
  return f.format(v as unknown as number);
}
