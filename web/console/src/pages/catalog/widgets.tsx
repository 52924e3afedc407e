// Small pieces the catalog screens share: a product's status tag, money as the language writes
// it, and the refusal of a duplicate product with a link to the one that exists.

import { Alert, Tag } from "antd";
import { Link } from "react-router";
import type { Money } from "../../gen/crm/common/v1/common_pb.js";
import type { Product } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../../i18n";
import { formatMoney } from "../../i18n/locale";
import { formatDecimal } from "./format";
import { isDiscontinued, type ExistingProduct } from "./logic";

export function ProductStatusTag({ product }: { product: Product }) {
  const { t } = useI18n();
  return isDiscontinued(product) ? <Tag color="default">{t("catalog.status.discontinued")}</Tag> : <Tag color="green">{t("catalog.status.active")}</Tag>;
}

/** Money as the language writes it; empty for none. */
export function useMoney(): (m: Money | undefined) => string {
  const { language } = useI18n();
  // Without a currency (not sent by the service) the amount alone is shown.
  return (m) => (!m || !m.amount ? "" : m.currencyCode ? formatMoney(language, m.amount, m.currencyCode) : formatDecimal(language, m.amount));
}

/** The refusal of a duplicate: which product has the code (or name and specification), linked. */
export function DuplicateProduct({ existing }: { existing: ExistingProduct }) {
  const { t } = useI18n();
  const key = existing.reason === "DUPLICATE_PRODUCT_CODE" ? "catalog.duplicate.code" : "catalog.duplicate.product";
  return (
    <Alert
      id="duplicate-product"
      type="warning"
      showIcon
      role="alert"
      style={{ marginBottom: 16 }}
      message={
        <>
          {t(key, { code: existing.productCode || existing.productId })}{" "}
          <Link to={`/products/${existing.productId}`} style={{ textDecoration: "underline" }}>
            {t("catalog.duplicate.open")}
          </Link>
        </>
      }
    />
  );
}

