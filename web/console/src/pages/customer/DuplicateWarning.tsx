// The warning shown while a new customer is typed: each existing customer the service matched,
// with its owner by name (or the public pool) and a link to it.

import { Alert } from "antd";
import { Link } from "react-router";
import { useDirectory } from "../../api/directory";
import type { DuplicateMatch } from "../../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../../i18n";
import { duplicateLine } from "./labels";

export function DuplicateWarning({ matches }: { matches: DuplicateMatch[] }) {
  const { t } = useI18n();
  const directory = useDirectory();
  if (matches.length === 0) return null;
  const ownerName = (id: string) => directory.get(id)?.displayName ?? id;
  return (
    <Alert
      id="duplicate-warning"
      type="warning"
      showIcon
      role="status"
      message={t("customers.duplicate.title")}
      description={
        <ul style={{ margin: 0, paddingInlineStart: 20 }}>
          {matches.map((m) => (
            <li key={m.customerId}>
              {duplicateLine(t, m, ownerName)} <Link to={`/customers/${m.customerId}`} style={{ textDecoration: "underline" }}>{t("customers.duplicate.open")}</Link>
            </li>
          ))}
        </ul>
      }
      style={{ marginBottom: 16 }}
    />
  );
}
