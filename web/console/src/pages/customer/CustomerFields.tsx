// The customer form's fields, shared by the new-customer screen and the edit drawer: company
// fields for companies, personal ones for individuals, and (new customers only) the primary
// contact.

import type { ReactNode } from "react";
import { Col, Divider, Form, Input, Radio, Row, Select } from "antd";
import { CustomerKind } from "../../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../../i18n";
import { useCategories, useDictionary } from "./catalog";
import { GENDERS, KINDS, STATUSES, genderKey, kindKey, statusKey } from "./labels";

function Half({ children }: { children: ReactNode }) {
  return (
    <Col xs={24} md={12}>
      {children}
    </Col>
  );
}

export function CustomerFields({ withContact }: { withContact?: boolean }) {
  const { t } = useI18n();
  const kind = Form.useWatch<CustomerKind | undefined>("kind");
  const levels = useDictionary("level");
  const sources = useDictionary("source");
  const industries = useDictionary("industry");
  const types = useDictionary("customer_type");
  const categories = useCategories();
  const company = kind !== CustomerKind.INDIVIDUAL;
  const pick = (label: string, options: { value: string; label: string }[]) => (
    <Select allowClear showSearch optionFilterProp="label" options={options} aria-label={label} />
  );
  return (
    <>
      <Form.Item name="kind" label={t("customers.kindLabel")}>
        <Radio.Group
          optionType="button"
          options={KINDS.map((k) => ({ value: k, label: t(kindKey(k)) }))}
        />
      </Form.Item>
      <Row gutter={16}>
        <Half>
          <Form.Item name="name" label={t("customers.name")} rules={[{ required: true, whitespace: true, message: t("customers.required") }]}>
            <Input autoComplete="off" />
          </Form.Item>
        </Half>
        {company ? (
          <Half>
            <Form.Item name="shortName" label={t("customers.shortName")}>
              <Input />
            </Form.Item>
          </Half>
        ) : (
          <Half>
            <Form.Item name="gender" label={t("customers.genderLabel")}>
              <Select allowClear aria-label={t("customers.genderLabel")} options={GENDERS.map((g) => ({ value: g, label: t(genderKey(g)) }))} />
            </Form.Item>
          </Half>
        )}
        {company && (
          <Half>
            <Form.Item name="taxId" label={t("customers.taxId")}>
              <Input />
            </Form.Item>
          </Half>
        )}
        {company && (
          <Half>
            <Form.Item name="industryCode" label={t("customers.industry")}>
              {pick(t("customers.industry"), industries.options)}
            </Form.Item>
          </Half>
        )}
        <Half>
          <Form.Item name="phone" label={t("customers.phone")}>
            <Input inputMode="tel" autoComplete="off" />
          </Form.Item>
        </Half>
        <Half>
          <Form.Item name="mobile" label={t("customers.mobile")}>
            <Input inputMode="tel" autoComplete="off" />
          </Form.Item>
        </Half>
        <Half>
          <Form.Item name="email" label={t("customers.email")}>
            <Input type="email" autoComplete="off" />
          </Form.Item>
        </Half>
        {company && (
          <Half>
            <Form.Item name="website" label={t("customers.website")}>
              <Input />
            </Form.Item>
          </Half>
        )}
        <Col xs={12} md={6}>
          <Form.Item name={["region", "country"]} label={t("customers.country")}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={12} md={6}>
          <Form.Item name={["region", "province"]} label={t("customers.province")}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={12} md={6}>
          <Form.Item name={["region", "city"]} label={t("customers.city")}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={12} md={6}>
          <Form.Item name={["region", "district"]} label={t("customers.district")}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24}>
          <Form.Item name="address" label={t("customers.address")}>
            <Input />
          </Form.Item>
        </Col>
        <Half>
          <Form.Item name="sourceCode" label={t("customers.source")}>
            {pick(t("customers.source"), sources.options)}
          </Form.Item>
        </Half>
        <Half>
          <Form.Item name="levelCode" label={t("customers.level")}>
            {pick(t("customers.level"), levels.options)}
          </Form.Item>
        </Half>
        <Half>
          <Form.Item name="typeCode" label={t("customers.type")}>
            {pick(t("customers.type"), types.options)}
          </Form.Item>
        </Half>
        <Half>
          <Form.Item name="categoryId" label={t("customers.category")}>
            {pick(t("customers.category"), categories.options)}
          </Form.Item>
        </Half>
        <Half>
          <Form.Item name="status" label={t("customers.statusLabel")}>
            <Select allowClear aria-label={t("customers.statusLabel")} options={STATUSES.map((s) => ({ value: s, label: t(statusKey(s)) }))} />
          </Form.Item>
        </Half>
        <Half>
          <Form.Item name="tags" label={t("customers.tags")}>
            <Select mode="tags" aria-label={t("customers.tags")} tokenSeparators={[",", "，"]} open={false} suffixIcon={null} />
          </Form.Item>
        </Half>
        <Col xs={24}>
          <Form.Item name="remark" label={t("customers.remark")}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </Col>
      </Row>
      {withContact && company && (
        <>
          <Divider orientation="left">{t("customers.primaryContact")}</Divider>
          <Row gutter={16}>
            <Half>
              <Form.Item name={["contact", "name"]} label={t("customers.contactName")}>
                <Input autoComplete="off" />
              </Form.Item>
            </Half>
            <Half>
              <Form.Item name={["contact", "title"]} label={t("customers.contactTitle")}>
                <Input />
              </Form.Item>
            </Half>
            <Half>
              <Form.Item name={["contact", "mobile"]} label={t("customers.mobile")}>
                <Input inputMode="tel" autoComplete="off" />
              </Form.Item>
            </Half>
            <Half>
              <Form.Item name={["contact", "email"]} label={t("customers.email")}>
                <Input type="email" autoComplete="off" />
              </Form.Item>
            </Half>
          </Row>
        </>
      )}
    </>
  );
}
