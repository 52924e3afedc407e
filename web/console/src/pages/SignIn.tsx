import { useState } from "react";
import { Button, Card, Form, Input } from "antd";
import { signIn } from "../api/session";
import { problemFromError, type Problem } from "../api/problem";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";

export default function SignIn() {
  const { t } = useI18n();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Card title={t("signIn.title")} style={{ maxWidth: 380, margin: "10vh auto" }}>
      <Form
        layout="vertical"
        onFinish={async ({ login, password }: { login: string; password: string }) => {
          setBusy(true);
          setProblem(null);
          try {
            await signIn(login, password);
          } catch (e) {
            setProblem(problemFromError(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Form.Item name="login" label={t("signIn.login")} rules={[{ required: true, message: t("signIn.required") }]}>
          <Input autoComplete="username" autoFocus />
        </Form.Item>
        <Form.Item name="password" label={t("signIn.password")} rules={[{ required: true, message: t("signIn.required") }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <ErrorNotice problem={problem} />
        <Button type="primary" htmlType="submit" loading={busy} block style={{ marginTop: 16 }}>
          {t("signIn.submit")}
        </Button>
      </Form>
    </Card>
  );
}
