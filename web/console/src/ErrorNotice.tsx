import { Alert } from "antd";
import type { Problem } from "./api/problem";
import { useI18n } from "./i18n";

/** A refused call's message and its field violations. */
export function ErrorNotice({ problem }: { problem: Problem | null }) {
  const { t } = useI18n();
  if (!problem) return null;
  return (
    <Alert
      type="error"
      showIcon
      message={problem.message}
      description={
        problem.violations.length > 0 ? (
          <ul>
            {problem.violations.map((v) => (
              <li key={`${v.field}:${v.reason}`}>{t("error.field", { field: v.field, description: v.description })}</li>
            ))}
          </ul>
        ) : undefined
      }
    />
  );
}
