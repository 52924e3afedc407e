import { lazy, Suspense, useEffect, useState } from "react";
import { ConfigProvider, Select, Spin } from "antd";
import enUS from "antd/locale/en_US";
import esES from "antd/locale/es_ES";
import zhCN from "antd/locale/zh_CN";
import { onSession, session, type Session } from "./api/session";
import { useI18n } from "./i18n";
import { LANGUAGES, type Language } from "./i18n/locale";
import { nonce } from "./nonce";
import SignIn from "./pages/SignIn";

// The first screen is the sign-in; everything behind it is loaded once signed in.
const Shell = lazy(() => import("./Shell"));

const ANTD_LOCALES = { en: enUS, zh: zhCN, es: esES } as const;

// Ant Design's blue one step darker: white text on it meets WCAG AA contrast (4.5:1); so do
// secondary texts (menu group titles, descriptions, hints) at 60% black instead of 45%.
const THEME = {
  token: {
    colorPrimary: "#0958d9",
    colorLink: "#0958d9",
    colorTextDescription: "rgba(0, 0, 0, 0.6)",
    colorTextTertiary: "rgba(0, 0, 0, 0.6)",
  },
};


function useSession(): Session | null {
  const [current, setCurrent] = useState(session());
  useEffect(() => onSession(setCurrent), []);
  return current;
}

export default function App() {
  const { t, language, setLanguage } = useI18n();
  const current = useSession();
  const languagePicker = (
    <Select<Language>
      aria-label={t("language")}
      value={language}
      onChange={setLanguage}
      options={Object.entries(LANGUAGES).map(([value, l]) => ({ value: value as Language, label: l.name }))}
      style={{ width: 120 }}
    />
  );
  return (
    <ConfigProvider locale={ANTD_LOCALES[language]} csp={nonce ? { nonce } : undefined} theme={THEME}>
      {current ? (
        <Suspense fallback={<Spin />}>
          <Shell session={current} languagePicker={languagePicker} />
        </Suspense>
      ) : (
        <main>
          <div style={{ textAlign: "right", padding: 16 }}>{languagePicker}</div>
          <SignIn />
        </main>
      )}
    </ConfigProvider>
  );
}
