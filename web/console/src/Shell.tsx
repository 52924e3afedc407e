// The signed-in console: the menu (only the screens the token's permissions allow, grouped) and
// the screens, each loaded when first opened.

import { Suspense, type ReactNode } from "react";
import { Button, Layout, Menu, Space, Spin } from "antd";
import type { ItemType } from "antd/es/menu/interface";
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation } from "react-router";
import { allows, signOut, type Session } from "./api/session";
import { useI18n } from "./i18n";
import { SCREENS, type Screen } from "./routes";

/** The menu: screens with a menu entry, in table order, under their group's heading. */
function menuItems(screens: Screen[], t: (key: string) => string): ItemType[] {
  const items: ItemType[] = [];
  const groups = new Map<string, ItemType[]>();
  for (const s of screens) {
    if (!s.menu) continue;
    const item = { key: s.path, label: <Link to={s.path}>{t(s.menu)}</Link> };
    if (!s.group) {
      items.push(item);
      continue;
    }
    let group = groups.get(s.group);
    if (!group) {
      group = [];
      groups.set(s.group, group);
      items.push({ key: s.group, type: "group", label: t(s.group), children: group });
    }
    group.push(item);
  }
  return items;
}

function SideMenu({ screens }: { screens: Screen[] }) {
  const { t } = useI18n();
  const { pathname } = useLocation();
  // The entry whose path is the longest prefix of the current one (a customer's page lights
  // "Customers").
  const selected = screens
    .filter((s) => s.menu && (pathname === s.path || pathname.startsWith(`${s.path}/`)))
    .sort((a, b) => b.path.length - a.path.length)[0];
  return (
    <Menu
      mode="inline"
      aria-label={t("menu.label")}
      selectedKeys={selected ? [selected.path] : []}
      items={menuItems(screens, t)}
      style={{ height: "100%", borderInlineEnd: 0 }}
    />
  );
}

export default function Shell({ session, languagePicker }: { session: Session; languagePicker: ReactNode }) {
  const { t } = useI18n();
  const screens = SCREENS.filter((s) => allows(session, s.permission));
  const home = screens.find((s) => s.menu)?.path;
  return (
    <BrowserRouter>
      <Layout style={{ minHeight: "100vh" }}>
        <Layout.Header style={{ display: "flex", alignItems: "center", justifyContent: "space-between", gap: 24 }}>
          <span style={{ color: "white", fontWeight: 600 }}>{t("app.title")}</span>
          <Space>
            {languagePicker}
            <span style={{ color: "white" }}>{session.employee?.displayName}</span>
            <Button onClick={() => void signOut()}>{t("signOut")}</Button>
          </Space>
        </Layout.Header>
        <Layout>
          <Layout.Sider width={200} theme="light" breakpoint="lg" collapsedWidth={0}>
            <nav>
              <SideMenu screens={screens} />
            </nav>
          </Layout.Sider>
          <Layout.Content style={{ padding: 24 }}>
            <main>
              <Suspense fallback={<Spin />}>
                <Routes>
                  {screens.map((s) => (
                    <Route key={s.path} path={s.path} element={<s.page />} />
                  ))}
                  <Route path="*" element={home ? <Navigate to={home} replace /> : <p>{t("menu.nothing")}</p>} />
                </Routes>
              </Suspense>
            </main>
          </Layout.Content>
        </Layout>
      </Layout>
    </BrowserRouter>
  );
}
