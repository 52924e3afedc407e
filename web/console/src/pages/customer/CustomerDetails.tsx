// A customer's details as the service holds them (codes by their dictionary names, owner by
// name, money and times for the locale), and the drawer that edits them: only the changed fields
// are sent, under the customer's etag, and a refusal (a stale etag, a bad field) is shown.

import { useState } from "react";
import { Button, Descriptions, Drawer, Form, Space, Tag } from "antd";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { customers } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { allows, session } from "../../api/session";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { CustomerKind, type Customer } from "../../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../../i18n";
import { formatMoney, formatTime } from "../../i18n/locale";
import { useCategories, useDictionary } from "./catalog";
import { CustomerFields } from "./CustomerFields";
import { updateRequest, valuesOf, type CustomerValues } from "./form";
import { genderKey, kindKey, statusKey } from "./labels";
import { showViolations } from "./violations";

export function CustomerDetails({ customer }: { customer: Customer }) {
  const { t, language } = useI18n();
  const [editing, setEditing] = useState(false);
  const levels = useDictionary("level");
  const sources = useDictionary("source");
  const industries = useDictionary("industry");
  const types = useDictionary("customer_type");
  const categories = useCategories();
  const time = (at: Timestamp | undefined) => (at ? formatTime(language, timestampDate(at)) : "");
  const region = [customer.region?.country, customer.region?.province, customer.region?.city, customer.region?.district]
    .filter((p) => p)
    .join(" ");
  const company = customer.kind !== CustomerKind.INDIVIDUAL;
  const items = [
    { key: "kind", label: t("customers.kindLabel"), children: t(kindKey(customer.kind)) },
    { key: "status", label: t("customers.statusLabel"), children: t(statusKey(customer.status)) },
    {
      key: "owner",
      label: t("customers.owner"),
      children: customer.ownerId ? <EmployeeName id={customer.ownerId} /> : <Tag>{t("customers.pool")}</Tag>,
    },
    { key: "ownedSince", label: t("customers.ownedSince"), children: time(customer.ownedSince) },
    ...(company
      ? [
          { key: "shortName", label: t("customers.shortName"), children: customer.shortName },
          { key: "taxId", label: t("customers.taxId"), children: customer.taxId },
          { key: "industry", label: t("customers.industry"), children: industries.nameOf(customer.industryCode) },
          { key: "website", label: t("customers.website"), children: customer.website },
        ]
      : [
          { key: "gender", label: t("customers.genderLabel"), children: customer.gender ? t(genderKey(customer.gender)) : "" },
          { key: "birthday", label: t("customers.birthday"), children: customer.birthday },
        ]),
    { key: "phone", label: t("customers.phone"), children: customer.phone },
    { key: "mobile", label: t("customers.mobile"), children: customer.mobile },
    { key: "email", label: t("customers.email"), children: customer.email },
    { key: "region", label: t("customers.region"), children: region },
    { key: "address", label: t("customers.address"), children: customer.address },
    { key: "level", label: t("customers.level"), children: levels.nameOf(customer.levelCode) },
    { key: "source", label: t("customers.source"), children: sources.nameOf(customer.sourceCode) },
    { key: "type", label: t("customers.type"), children: types.nameOf(customer.typeCode) },
    { key: "category", label: t("customers.category"), children: categories.nameOf(customer.categoryId) },
    { key: "tags", label: t("customers.tags"), children: customer.tags.map((tag) => <Tag key={tag}>{tag}</Tag>) },
    { key: "lastFollowUp", label: t("customers.lastFollowUp"), children: time(customer.lastFollowUpTime) },
    { key: "nextFollowUp", label: t("customers.nextFollowUp"), children: time(customer.nextFollowUpTime) },
    {
      key: "totalOrdered",
      label: t("customers.totalOrdered"),
      children: customer.totalOrdered ? formatMoney(language, customer.totalOrdered.amount, customer.totalOrdered.currencyCode) : "",
    },
    {
      key: "receivable",
      label: t("customers.receivable"),
      children: customer.receivableBalance
        ? formatMoney(language, customer.receivableBalance.amount, customer.receivableBalance.currencyCode)
        : "",
    },
    { key: "created", label: t("customers.created"), children: time(customer.audit?.createTime) },
    { key: "remark", label: t("customers.remark"), span: 3, children: <span style={{ whiteSpace: "pre-wrap" }}>{customer.remark}</span> },
  ];
  return (
    <>
      <Descriptions
        id="customer-details"
        title={t("customers.details")}
        bordered
        size="small"
        column={{ xs: 1, md: 2, xl: 3 }}
        items={items}
        extra={
          allows(session(), "customers.customer.update") && (
            <Button id="customer-edit" onClick={() => setEditing(true)}>
              {t("common.edit")}
            </Button>
          )
        }
      />
      {editing && <EditCustomer customer={customer} onClose={() => setEditing(false)} />}
    </>
  );
}

function EditCustomer({ customer, onClose }: { customer: Customer; onClose: () => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<CustomerValues>();
  const save = useMutation({
    mutationFn: async (values: CustomerValues) => {
      const request = updateRequest(customer, values);
      return request ? (await customers.updateCustomer(request)).customer : customer;
    },
    onSuccess: (updated) => {
      if (updated) queryClient.setQueryData(["customer", customer.id], { customer: updated });
      void queryClient.invalidateQueries({ queryKey: ["customer", customer.id] });
      void queryClient.invalidateQueries({ queryKey: ["customerChanges", customer.id] });
      void queryClient.invalidateQueries({ queryKey: ["customers"] });
      onClose();
    },
    onError: (error) => {
      showViolations(form, error);
    },
  });
  const stale = save.error instanceof ConnectError && save.error.code === Code.Aborted;
  return (
    <Drawer
      open
      width={760}
      title={t("customers.editTitle", { name: customer.name })}
      onClose={onClose}
      extra={
        <Space>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
          <Button id="customer-save" type="primary" loading={save.isPending} onClick={() => form.submit()}>
            {t("common.save")}
          </Button>
        </Space>
      }
    >
      <ErrorNotice problem={save.error ? problemFromError(save.error) : null} />
      {stale && (
        <Button
          style={{ margin: "8px 0" }}
          onClick={() => {
            save.reset();
            void queryClient.invalidateQueries({ queryKey: ["customer", customer.id] });
            onClose();
          }}
        >
          {t("customers.reload")}
        </Button>
      )}
      <Form<CustomerValues> form={form} name="editCustomer" layout="vertical" initialValues={valuesOf(customer)} onFinish={(v) => save.mutate(v)}>
        <CustomerFields />
      </Form>
    </Drawer>
  );
}
