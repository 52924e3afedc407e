// The lead's editable fields as form items (the create form and the edit drawer share them).

import { Form, Input, Select } from "antd";
import { useI18n } from "../../i18n";
import { LeadSource, type Lead } from "../../gen/crm/sales/v1/sales_pb.js";
import { LEAD_SOURCES, leadSourceKey } from "./labels";

/** The lead form's values. */
export interface LeadFormValues {
  companyName?: string;
  contactName?: string;
  title?: string;
  phone?: string;
  mobile?: string;
  email?: string;
  source?: LeadSource;
  province?: string;
  city?: string;
  remark?: string;
}

/** A lead's editable fields in the form's shape. */
export function leadToForm(l: Lead): LeadFormValues {
  return {
    companyName: l.companyName,
    contactName: l.contactName,
    title: l.title,
    phone: l.phone,
    mobile: l.mobile,
    email: l.email,
    source: l.source || undefined,
    province: l.province,
    city: l.city,
    remark: l.remark,
  };
}

/** The form's values as the lead message's fields. */
export function leadFromForm(v: LeadFormValues) {
  return {
    companyName: (v.companyName ?? "").trim(),
    contactName: v.contactName ?? "",
    title: v.title ?? "",
    phone: v.phone ?? "",
    mobile: v.mobile ?? "",
    email: v.email ?? "",
    source: v.source ?? LeadSource.UNSPECIFIED,
    province: v.province ?? "",
    city: v.city ?? "",
    remark: v.remark ?? "",
  };
}

/** The form names of the editable fields, in the contract's order. */
export const LEAD_FIELDS = [
  "companyName",
  "contactName",
  "title",
  "phone",
  "mobile",
  "email",
  "source",
  "province",
  "city",
  "remark",
] as const;

export function LeadFields() {
  const { t } = useI18n();
  const text = (name: (typeof LEAD_FIELDS)[number], required = false) => (
    <Form.Item
      key={name}
      name={name}
      label={t(`leads.field.${name}`)}
      rules={required ? [{ required: true, whitespace: true, message: t("leads.required") }] : []}
    >
      <Input />
    </Form.Item>
  );
  return (
    <>
      {text("companyName", true)}
      {text("contactName")}
      {text("title")}
      {text("phone")}
      {text("mobile")}
      {text("email")}
      <Form.Item name="source" label={t("leads.field.source")}>
        <Select
          allowClear
          options={LEAD_SOURCES.map((s) => ({ value: s, label: t(leadSourceKey(s)) }))}
        />
      </Form.Item>
      {text("province")}
      {text("city")}
      <Form.Item name="remark" label={t("leads.field.remark")}>
        <Input.TextArea rows={3} />
      </Form.Item>
    </>
  );
}
