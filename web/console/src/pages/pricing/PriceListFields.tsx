// A price list's fields in a form: name, kind (fixed once created), the customer level or the
// customers named, the days it is valid (until: empty for open-ended), status and remark.

import { DatePicker, Form, Input, Radio, Select } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { PriceListKind, PriceListStatus } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../../i18n";
import { useDictionary } from "../customer/catalog";
import type { PriceListValues } from "./logic";
import { CustomersPicker } from "./widgets";

const DAY = "YYYY-MM-DD";
const dayProps = (v: string | undefined) => ({ value: v ? dayjs(v, DAY) : null });
const dayOf = (d: Dayjs | null) => (d ? d.format(DAY) : "");

export function PriceListFields({ kindFixed = false }: { kindFixed?: boolean }) {
  const { t } = useI18n();
  const levels = useDictionary("level");
  return (
    <>
      <Form.Item<PriceListValues> name="name" label={t("pricing.list.name")} rules={[{ required: true, whitespace: true, message: t("pricing.list.nameRequired") }]}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item<PriceListValues> name="kind" label={t("pricing.list.kind")}>
        <Radio.Group disabled={kindFixed}>
          <Radio value={PriceListKind.LEVEL}>{t("pricing.kind.level")}</Radio>
          <Radio value={PriceListKind.NAMED}>{t("pricing.kind.named")}</Radio>
        </Radio.Group>
      </Form.Item>
      <Form.Item noStyle dependencies={["kind"]}>
        {({ getFieldValue }) =>
          getFieldValue("kind") === PriceListKind.NAMED ? (
            <Form.Item<PriceListValues> name="customerIds" label={t("pricing.list.customers")} rules={[{ required: true, message: t("pricing.list.customersRequired") }]}>
              <CustomersPicker ariaLabel={t("pricing.list.customers")} />
            </Form.Item>
          ) : (
            <Form.Item<PriceListValues> name="customerLevel" label={t("pricing.list.level")} rules={[{ required: true, message: t("pricing.list.levelRequired") }]}>
              <Select options={levels.options} aria-label={t("pricing.list.level")} style={{ maxWidth: 240 }} />
            </Form.Item>
          )
        }
      </Form.Item>
      <Form.Item<PriceListValues> name="validFrom" label={t("pricing.list.validFrom")} getValueProps={dayProps} normalize={dayOf} extra={t("pricing.list.validFromHint")}>
        <DatePicker format={DAY} />
      </Form.Item>
      <Form.Item<PriceListValues> name="validUntil" label={t("pricing.list.validUntil")} getValueProps={dayProps} normalize={dayOf} extra={t("pricing.list.validUntilHint")}>
        <DatePicker format={DAY} />
      </Form.Item>
      <Form.Item<PriceListValues> name="status" label={t("pricing.list.status")}>
        <Radio.Group>
          <Radio value={PriceListStatus.ACTIVE}>{t("pricing.status.active")}</Radio>
          <Radio value={PriceListStatus.INACTIVE}>{t("pricing.status.inactive")}</Radio>
        </Radio.Group>
      </Form.Item>
      <Form.Item<PriceListValues> name="remark" label={t("pricing.list.remark")}>
        <Input.TextArea rows={2} maxLength={1000} />
      </Form.Item>
    </>
  );
}

export const NEW_PRICE_LIST: PriceListValues = {
  name: "",
  kind: PriceListKind.LEVEL,
  customerLevel: "",
  customerIds: [],
  validFrom: "",
  validUntil: "",
  status: PriceListStatus.ACTIVE,
  remark: "",
};
