// Converting a qualified lead (a panel on the lead's page) into a customer (with its contact) and, if asked, an opportunity.
// When the customers service finds the company already exists, the conversion is refused
// naming it: the existing customer(s) are offered with their owners, and the lead is converted
// onto one of them, or, since the contract cannot force a second customer of the same name, the
// lead's company name is changed first and a new customer is created under it.

import { useRef, useState } from "react";
import { Alert, Button, Card, Checkbox, Form, Input, InputNumber, Result, Space, Table, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import type { Lead } from "../../gen/crm/sales/v1/sales_pb.js";
import type { ConvertLeadResponse } from "../../gen/crm/sales/v1/sales_pb.js";
import { customers, sales } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import {
  conversionRequest,
  duplicateOf,
  requestKey,
  type ConversionChoice,
  type DuplicateOffer,
  type OpportunityDraft,
} from "./convert";
import { requestId } from "./shared";

interface Ask {
  withOpportunity?: boolean;
  subject?: string;
  expectedAmount?: string;
  currencyCode?: string;
  plannedCloseDate?: string;
}

/** The customers like the one refused: the named one first, then other exact name matches. */
function useDuplicates(offer: DuplicateOffer | null, name: string) {
  return useQuery({
    queryKey: ["lead-duplicates", offer?.customerId, name],
    enabled: !!offer,
    queryFn: async ({ signal }) => {
      const found = await customers.checkDuplicates({ name }, { signal });
      const rows = found.exactMatches.map((m) => ({ customerId: m.customerId, name: m.name, ownerId: m.ownerId, inPool: m.inPool }));
      if (offer && !rows.some((r) => r.customerId === offer.customerId)) {
        rows.unshift({ customerId: offer.customerId, name: offer.customerName, ownerId: "", inPool: false });
      }
      return rows.sort((a, b) => (a.customerId === offer?.customerId ? -1 : b.customerId === offer?.customerId ? 1 : 0));
    },
  });
}

export function ConvertDialog({ lead, onClose }: { lead: Lead; onClose: () => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [form] = Form.useForm<Ask>();
  const withOpportunity = Form.useWatch("withOpportunity", form);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [offer, setOffer] = useState<DuplicateOffer | null>(null);
  const [draft, setDraft] = useState<OpportunityDraft | undefined>();
  const [result, setResult] = useState<ConvertLeadResponse | null>(null);
  const [newName, setNewName] = useState("");
  const ids = useRef(new Map<string, string>());
  const duplicates = useDuplicates(offer, lead.companyName);

  const convert = useMutation({
    mutationFn: async ({ choice, opportunity, rename }: { choice: ConversionChoice; opportunity?: OpportunityDraft; rename?: string }) => {
      if (rename) {
        // A new customer under another name: the lead carries the name the customer gets.
        const current = (await sales.getLead({ id: lead.id })).lead;
        await sales.updateLead({
          lead: { id: lead.id, companyName: rename, etag: current?.etag ?? lead.etag },
          updateMask: { paths: ["company_name"] },
        });
      }
      const request = conversionRequest(lead.id, choice, opportunity, "");
      const key = requestKey(request);
      const id = ids.current.get(key) ?? requestId();
      ids.current.set(key, id);
      return sales.convertLead({ ...request, requestId: id });
    },
    onSuccess: (r) => {
      setResult(r);
      setProblem(null);
      setOffer(null);
      void client.invalidateQueries({ queryKey: ["lead", lead.id] });
      void client.invalidateQueries({ queryKey: ["leads"] });
    },
    onError: (e) => {
      const duplicate = duplicateOf(e);
      if (duplicate) {
        setOffer(duplicate);
        setProblem(null);
      } else {
        setProblem(problemFromError(e));
      }
      void client.invalidateQueries({ queryKey: ["lead", lead.id] });
    },
  });

  const start = (v: Ask) => {
    const opportunity = v.withOpportunity
      ? {
          subject: v.subject ?? lead.companyName,
          expectedAmount: v.expectedAmount ?? "",
          currencyCode: (v.currencyCode || "CNY").toUpperCase(),
          plannedCloseDate: v.plannedCloseDate ?? "",
        }
      : undefined;
    setDraft(opportunity);
    convert.mutate({ choice: { kind: "new" }, opportunity });
  };

  const close = () => {
    setOffer(null);
    setProblem(null);
    onClose();
  };

  return (
    <Card
      id="lead-conversion"
      title={<h2 style={{ fontSize: 16, margin: 0 }}>{t("leads.convert.title", { name: lead.companyName })}</h2>}
      extra={<Button onClick={close}>{t(result ? "leads.convert.close" : "common.cancel")}</Button>}
      style={{ marginBottom: 16, borderColor: "#0958d9" }}
    >
      <ErrorNotice problem={problem} />
      {result ? (
        <Result
          status="success"
          title={t(result.existingCustomer ? "leads.convert.doneExisting" : "leads.convert.doneNew")}
          extra={
            <Space direction="vertical">
              <Link to={`/customers/${result.customerId}`} id="converted-customer">
                {t("leads.convert.openCustomer")}
              </Link>
              {result.opportunity && (
                <Link to={`/opportunities/${result.opportunity.id}`} id="converted-opportunity">
                  {t("leads.convert.openOpportunity", { subject: result.opportunity.subject })}
                </Link>
              )}
            </Space>
          }
        />
      ) : offer ? (
        <section aria-labelledby="duplicate-offer">
          <Alert
            type="warning"
            showIcon
            message={<span id="duplicate-offer">{t("leads.convert.duplicate", { name: offer.customerName })}</span>}
            description={t("leads.convert.duplicateHelp")}
          />
          <Table
            rowKey="customerId"
            size="small"
            style={{ marginBlock: 16 }}
            loading={duplicates.isFetching}
            dataSource={duplicates.data ?? [{ customerId: offer.customerId, name: offer.customerName, ownerId: "", inPool: false }]}
            pagination={false}
            columns={[
              {
                title: t("leads.convert.customer"),
                key: "name",
                render: (_, d) => <Link to={`/customers/${d.customerId}`}>{d.name}</Link>,
              },
              {
                title: t("leads.field.owner"),
                key: "owner",
                render: (_, d) => (d.inPool ? t("leads.convert.publicPool") : <EmployeeName id={d.ownerId} />),
              },
              {
                title: t("common.actions"),
                key: "actions",
                render: (_, d) => (
                  <Button
                    type="primary"
                    size="small"
                    loading={convert.isPending}
                    onClick={() => convert.mutate({ choice: { kind: "existing", customerId: d.customerId }, opportunity: draft })}
                  >
                    {t("leads.convert.onto")}
                  </Button>
                ),
              },
            ]}
          />
          <Typography.Paragraph>{t("leads.convert.renameHelp")}</Typography.Paragraph>
          <Space.Compact style={{ width: "100%" }}>
            <Input
              id="convert-new-name"
              aria-label={t("leads.convert.newName")}
              placeholder={t("leads.convert.newName")}
              value={newName}
              onChange={(e) => setNewName(e.target.value)}
            />
            <Button
              disabled={!newName.trim() || newName.trim() === lead.companyName}
              loading={convert.isPending}
              onClick={() => convert.mutate({ choice: { kind: "new" }, opportunity: draft, rename: newName.trim() })}
            >
              {t("leads.convert.createNew")}
            </Button>
          </Space.Compact>
        </section>
      ) : (
        <Form name="convert" form={form} layout="vertical" onFinish={start} initialValues={{ subject: lead.companyName, currencyCode: "CNY" }}>
          <Typography.Paragraph>{t("leads.convert.help")}</Typography.Paragraph>
          <Form.Item name="withOpportunity" valuePropName="checked">
            <Checkbox>{t("leads.convert.withOpportunity")}</Checkbox>
          </Form.Item>
          {withOpportunity && (
            <>
              <Form.Item name="subject" label={t("pipeline.field.subject")} rules={[{ required: true, whitespace: true, message: t("leads.required") }]}>
                <Input />
              </Form.Item>
              <Space>
                <Form.Item name="expectedAmount" label={t("pipeline.field.expectedAmount")}>
                  <InputNumber<string> stringMode min="0" style={{ width: 200 }} />
                </Form.Item>
                <Form.Item name="currencyCode" label={t("pipeline.field.currency")}>
                  <Input maxLength={3} style={{ width: 90 }} />
                </Form.Item>
                <Form.Item name="plannedCloseDate" label={t("pipeline.field.plannedCloseDate")}>
                  <Input type="date" />
                </Form.Item>
              </Space>
            </>
          )}
          <Space>
            <Button type="primary" htmlType="submit" id="convert-submit" loading={convert.isPending}>
              {t("leads.convert.submit")}
            </Button>
          </Space>
        </Form>
      )}
    </Card>
  );
}
