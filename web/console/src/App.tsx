import { lazy, Suspense, useEffect, useState } from "react";
import { ConfigProvider, Select, Spin } from "antd";
import enUS from "antd/locale/en_US";
import esES from "antd/locale/es_ES";
import zhCN from "antd/locale/zh_CN";
import { onSession, session, type Session } from "./api/session";
import { useI18n } from "./i18n";
import { LANGUAGES, loadAreas, type Language } from "./i18n/locale";
import { nonce } from "./nonce";
import SignIn from "./pages/SignIn";

// The first screen is the sign-in; everything behind it is loaded once signed in.
const Shell = lazy(() => Promise.all([import("./Shell"), loadAreas()]).then(([shell]) => shell));

const ANTD_LOCALES = { en: enUS, zh: zhCN, es: esES } as const;

// Ant Design's blue, its hover blue, its red, green and gold darker: text in them and white text
// on them meet WCAG AA contrast (4.5:1; the defaults are 2 to 4.4:1 on white); so do secondary
// texts (menu group titles, descriptions, hints) at 60% black instead of 45%.
const THEME = {
  token: {
    colorPrimary: "#0958d9",
    colorLink: "#0958d9",
    colorPrimaryHover: "#003eb3",
    colorLinkHover: "#003eb3",
    colorError: "#cf1322",
    colorErrorText: "#cf1322",
    colorErrorHover: "#a8071a",
    colorSuccess: "#237804",
    colorWarning: "#874d00",
    // Their tints stay Ant Design's light ones (links and text on them keep their contrast).
    colorErrorBg: "#fff2f0",
    colorErrorBorder: "#ffccc7",
    colorSuccessBg: "#f6ffed",
    colorSuccessBorder: "#b7eb8f",
    colorWarningBg: "#fffbe6",
    colorWarningBorder: "#ffe58f",
    // Tags in preset colours write in the palette's 7th step: these are too light on their tint.
    green7: "#237804",
    lime7: "#3f6600",
    gold7: "#874d00",
    orange7: "#ad4e00",
    cyan7: "#006d75",
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
