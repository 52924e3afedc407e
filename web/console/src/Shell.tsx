// The signed-in console: the menu (only what the token's permissions allow) and the screens,
// each loaded when first opened.

import { lazy, Suspense, type ReactNode } from "react";
import { Button, Layout, Menu, Space, Spin } from "antd";
import { BrowserRouter, Link, Navigate, Route, Routes } from "react-router";
import { allows, signOut, type Session } from "./api/session";
import { useI18n } from "./i18n";

const Customers = lazy(() => import("./pages/Customers"));

export default function Shell({ session, languagePicker }: { session: Session; languagePicker: ReactNode }) {
  const { t } = useI18n();
  const items = [
    allows(session, "customers.customer.read")
      ? { key: "customers", label: <Link to="/customers">{t("menu.customers")}</Link> }
      : null,
  ].filter((item) => item !== null);
  return (
    <BrowserRouter>
      <Layout style={{ minHeight: "100vh" }}>
        <Layout.Header style={{ display: "flex", alignItems: "center", gap: 24 }}>
          <span style={{ color: "white", fontWeight: 600 }}>{t("app.title")}</span>
          <Menu theme="dark" mode="horizontal" style={{ flex: 1 }} items={items} />
          <Space>
            {languagePicker}
            <span style={{ color: "white" }}>{session.employee?.displayName}</span>
            <Button onClick={() => void signOut()}>{t("signOut")}</Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: 24 }}>
          <Suspense fallback={<Spin />}>
            <Routes>
              {allows(session, "customers.customer.read") && <Route path="/customers" element={<Customers />} />}
              <Route path="*" element={<Navigate to="/customers" replace />} />
            </Routes>
          </Suspense>
        </Layout.Content>
      </Layout>
    </BrowserRouter>
  );
}
