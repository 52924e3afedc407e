import { createContext, useContext, useMemo, useState, type ReactNode } from "react";
import { pickLanguage, translate, type Language } from "./locale";

interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: (key: string, values?: Record<string, string>) => string;
}

const Context = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguage] = useState<Language>(() => pickLanguage(navigator.languages ?? [navigator.language]));
  const value = useMemo(
    () => ({ language, setLanguage, t: (key: string, values?: Record<string, string>) => translate(language, key, values) }),
    [language],
  );
  document.documentElement.lang = language;
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(Context);
  if (!i18n) throw new Error("useI18n outside I18nProvider");
  return i18n;
}
