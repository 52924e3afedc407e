import { beforeAll, describe, expect, it } from "vitest";
import { LANGUAGES, formatMoney, formatNumber, loadAreas, pickLanguage, repeatedKeys, translate } from "./locale";

describe("languages", () => {
  beforeAll(() => loadAreas());

  it("follows the browser's preference and falls back to English", () => {
    expect(pickLanguage(["zh-CN", "en"])).toBe("zh");
    expect(pickLanguage(["es-MX"])).toBe("es");
    expect(pickLanguage(["fr-FR", "de"])).toBe("en");
    expect(pickLanguage([])).toBe("en");
  });

  it("has every text in every language", () => {
    const keys = Object.keys(LANGUAGES.en.texts).sort();
    for (const language of Object.values(LANGUAGES)) {
      expect(Object.keys(language.texts).sort()).toEqual(keys);
    }
  });

  it("defines each key in one area file only", () => {
    for (const folder of Object.keys(LANGUAGES)) expect(repeatedKeys(folder)).toEqual([]);
  });

  it("fills placeholders", () => {
    expect(translate("zh", "error.field", { field: "phone", description: "无效" })).toBe("phone：无效");
    expect(translate("en", "no.such.key")).toBe("no.such.key");
  });

  it("formats money and numbers for the locale", () => {
    expect(formatMoney("zh", "1234.50", "CNY")).toBe("¥1,234.50");
    expect(formatMoney("es", "1234.50", "EUR")).toMatch(/1234,50\s€|1\.234,50\s€/);
    expect(formatNumber("en", 1234567)).toBe("1,234,567");
  });
});
