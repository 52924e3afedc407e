// The product form's fields, shared by the new product and its edit: code, name,
// specification, the stock unit and alternative units (a name and how many stock units make
// one, with the sentence it means), category, barcode, brand, prices, tax rate, warranty, how
// units are told apart (none, serial numbers, lots: fixed once the product has moved) and remark. A refusal's field violations land on the fields they name.

import { Button, Col, Form, Input, InputNumber, Radio, Row, Select, Space, Typography, type FormInstance } from "antd";
import { problemFromError } from "../../api/problem";
import { Tracking } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../../i18n";
import { useCategories } from "./data";
import { categoryOptions, formFieldOf, isDecimal, isPercent, trimDecimal, type ProductValues } from "./logic";

const FIELDS = [
  "code",
  "name",
  "specification",
  "unit",
  "units",
  "categoryId",
  "barcode",
  "brand",
  "salePrice",
  "taxRate",
  "standardCost",
  "warrantyMonths",
  "tracking",
  "remark",
] as const;

type Fields = Parameters<FormInstance<ProductValues>["setFields"]>[0];

/** Puts a refusal's field violations on the product form's fields. */
export function showProductViolations(form: FormInstance<ProductValues>, error: unknown): void {
  const fields = problemFromError(error)
    .violations.map((v) => ({ name: formFieldOf(v.field, FIELDS), errors: [v.description] }))
    .filter((f) => f.name !== null);
  if (fields.length > 0) form.setFields(fields as Fields);
}

/** The sentence an alternative unit row means: "1 box = 12 pcs". */
function UnitHint({ index }: { index: number }) {
  const { t } = useI18n();
  const form = Form.useFormInstance<ProductValues>();
  const stock = Form.useWatch("unit", form) ?? "";
  const row = Form.useWatch(["units", index], form) as { name?: string; factor?: string } | undefined;
  const name = row?.name?.trim() ?? "";
  const factor = row?.factor?.trim() ?? "";
  if (!name || !factor || !stock.trim() || !isDecimal(factor)) return null;
  return (
    <Typography.Text type="secondary" data-testid={`unit-hint-${index}`}>
      {t("catalog.product.unitExample", { unit: name, factor: trimDecimal(factor), stock: stock.trim() })}
    </Typography.Text>
  );
}

export function ProductFields() {
  const { t } = useI18n();
  const categories = useCategories();
  const required = [{ required: true, whitespace: true, message: t("catalog.required") }];
  const decimal = { validator: (_: unknown, v: string | undefined) => (isDecimal(v) ? Promise.resolve() : Promise.reject(new Error(t("catalog.product.decimal")))) };
  return (
    <>
      <Row gutter={16}>
        <Col span={12}>
          <Form.Item name="code" label={t("catalog.product.code")} rules={required} extra={t("catalog.product.codeHint")}>
            <Input maxLength={64} />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name="name" label={t("catalog.product.name")} rules={required}>
            <Input maxLength={200} />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col span={12}>
          <Form.Item name="specification" label={t("catalog.product.specification")}>
            <Input maxLength={200} />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name="unit" label={t("catalog.product.unit")} rules={required} extra={t("catalog.product.unitHint")}>
            <Input maxLength={32} />
          </Form.Item>
        </Col>
      </Row>
      <Typography.Text strong>{t("catalog.product.units")}</Typography.Text>
      <Form.List name="units">
        {(rows, { add, remove }, { errors }) => (
          <div style={{ marginBottom: 16 }}>
            {rows.map((row) => (
              <div key={row.key}>
                <Space align="baseline" wrap>
                  <Form.Item name={[row.name, "name"]} rules={required} style={{ marginBottom: 8 }}>
                    <Input aria-label={`${t("catalog.product.unitName")} ${row.name + 1}`} placeholder={t("catalog.product.unitName")} style={{ width: 140 }} />
                  </Form.Item>
                  <Form.Item name={[row.name, "factor"]} rules={[...required, decimal]} style={{ marginBottom: 8 }}>
                    <Input
                      aria-label={`${t("catalog.product.unitFactor")} ${row.name + 1}`}
                      placeholder={t("catalog.product.unitFactor")}
                      inputMode="decimal"
                      style={{ width: 180 }}
                    />
                  </Form.Item>
                  <UnitHint index={row.name} />
                  <Button size="small" onClick={() => remove(row.name)} aria-label={`${t("catalog.product.removeUnit")} ${row.name + 1}`}>
                    {t("catalog.product.removeUnit")}
                  </Button>
                </Space>
              </div>
            ))}
            <div>
              <Typography.Text type="secondary">{t("catalog.product.unitsHint")}</Typography.Text>
            </div>
            <div id="units-errors" role="alert">
              <Form.ErrorList errors={errors} />
            </div>
            <Button style={{ marginTop: 8 }} onClick={() => add({ name: "", factor: "" })}>
              {t("catalog.product.addUnit")}
            </Button>
          </div>
        )}
      </Form.List>
      <Row gutter={16}>
        <Col span={12}>
          <Form.Item name="categoryId" label={t("catalog.product.category")}>
            <Select
              allowClear
              showSearch
              optionFilterProp="label"
              loading={categories.isLoading}
              options={categoryOptions(categories.data?.categories ?? [])}
            />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name="brand" label={t("catalog.product.brand")}>
            <Input maxLength={100} />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col span={12}>
          <Form.Item name="barcode" label={t("catalog.product.barcode")}>
            <Input maxLength={64} />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name="warrantyMonths" label={t("catalog.product.warrantyMonths")}>
            <InputNumber min={0} max={600} precision={0} style={{ width: "100%" }} />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col span={8}>
          <Form.Item name="salePrice" label={t("catalog.product.salePrice")} rules={[decimal]}>
            <Input inputMode="decimal" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item
            name="taxRate"
            label={t("catalog.product.taxRate")}
            rules={[
              {
                validator: (_: unknown, v: string | undefined) =>
                  isPercent(v)
                    ? Promise.resolve()
                    : Promise.reject(new Error(t("catalog.product.percent"))),
              },
            ]}
          >
            <Input inputMode="decimal" suffix="%" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name="standardCost" label={t("catalog.product.standardCost")} rules={[decimal]} extra={t("catalog.product.standardCostHint")}>
            <Input inputMode="decimal" />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="tracking" label={t("catalog.product.tracking")} extra={t("catalog.product.trackingHint")} initialValue={Tracking.NONE}>
        <Radio.Group
          optionType="button"
          options={[
            { value: Tracking.NONE, label: t("catalog.tracking.none") },
            { value: Tracking.SERIAL, label: t("catalog.tracking.serial") },
            { value: Tracking.LOT, label: t("catalog.tracking.lot") },
          ]}
        />
      </Form.Item>
      <Form.Item name="remark" label={t("catalog.product.remark")}>
        <Input.TextArea rows={2} maxLength={1000} />
      </Form.Item>
    </>
  );
}
