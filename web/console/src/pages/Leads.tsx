// The leads: the caller's (their scope's) and the lead pool's, searched by company name and
// filtered by status and source, with owner, next follow-up, and ownership actions (claim,
// assign, release); a new lead is created from the form here.

import { useDeferredValue, useRef, useState } from "react";
import { Button, Checkbox, Form, Input, Modal, Select, Space, Table, Tabs, Tag } from "antd";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { LeadSource, LeadStatus, type Lead } from "../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { EmployeePicker } from "../components/EmployeePicker";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";
import { leadFilter } from "./sales/filters";
import { LEAD_SOURCES, LEAD_STATUSES, leadSourceKey, leadStatusKey } from "./sales/labels";
import { LeadActions } from "./sales/LeadActions";
import { LEAD_FIELDS, LeadFields, leadFromForm, type LeadFormValues } from "./sales/LeadFields";
import { requestId, showViolations, when } from "./sales/shared";

type Tab = "mine" | "pool";

function LeadList({ tab }: { tab: Tab }) {
  const { t, language } = useI18n();
  const [typed, setTyped] = useState("");
  const text = useDeferredValue(typed);
  const [status, setStatus] = useState<LeadStatus | undefined>();
  const [source, setSource] = useState<LeadSource | undefined>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const filter = leadFilter({ text, status, source });
  const list = useInfiniteQuery({
    queryKey: ["leads", tab, filter],
    queryFn: ({ pageParam, signal }) =>
      sales.listLeads({ pool: tab === "pool", filter, pageSize: 50, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: (previous) => previous,
  });
  const rows = list.data?.pages.flatMap((p) => p.leads) ?? [];
  return (
    <>
      <Space wrap style={{ marginBottom: 16 }}>
        <Input.Search
          id={`lead-search-${tab}`}
          aria-label={t("leads.search")}
          placeholder={t("leads.search")}
          allowClear
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          style={{ width: 280 }}
        />
        <Select
          id={`lead-status-${tab}`}
          aria-label={t("leads.field.status")}
          placeholder={t("leads.field.status")}
          allowClear
          value={status}
          onChange={setStatus}
          options={LEAD_STATUSES.map((s) => ({ value: s, label: t(leadStatusKey(s)) }))}
          style={{ width: 160 }}
        />
        <Select
          id={`lead-source-${tab}`}
          aria-label={t("leads.field.source")}
          placeholder={t("leads.field.source")}
          allowClear
          value={source}
          onChange={setSource}
          options={LEAD_SOURCES.map((s) => ({ value: s, label: t(leadSourceKey(s)) }))}
          style={{ width: 180 }}
        />
      </Space>
      <ErrorNotice problem={problem ?? (list.error ? problemFromError(list.error) : null)} />
      <Table<Lead>
        rowKey="id"
        loading={list.isFetching}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t(tab === "pool" ? "leads.emptyPool" : "leads.empty") }}
        columns={[
          {
            title: t("leads.field.companyName"),
            key: "company",
            render: (_, l) => <Link to={`/leads/${l.id}`}>{l.companyName}</Link>,
          },
          { title: t("leads.field.contactName"), dataIndex: "contactName" },
          { title: t("leads.field.status"), key: "status", render: (_, l) => <Tag>{t(leadStatusKey(l.status))}</Tag> },
          { title: t("leads.field.source"), key: "source", render: (_, l) => (l.source ? t(leadSourceKey(l.source)) : "") },
          {
            title: t("leads.field.owner"),
            key: "owner",
            render: (_, l) => (l.ownerId ? <EmployeeName id={l.ownerId} /> : t("leads.inPool")),
          },
          { title: t("leads.field.nextFollowUp"), key: "next", render: (_, l) => when(language, l.nextFollowUpTime) },
          { title: t("common.actions"), key: "actions", render: (_, l) => <LeadActions lead={l} onError={setProblem} /> },
        ]}
      />
      {list.hasNextPage && (
        <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage} style={{ marginTop: 8 }}>
          {t("common.more")}
        </Button>
      )}
    </>
  );
}

type NewLead = LeadFormValues & { toPool?: boolean; ownerId?: string };

function NewLeadForm({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<NewLead>();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const key = useRef(requestId());
  const canAssign = allows(session(), "sales.lead.assign");
  const create = useMutation({
    mutationFn: (v: NewLead) =>
      sales.createLead({
        lead: leadFromForm(v),
        ownerId: v.toPool ? "pool" : (v.ownerId ?? ""),
        requestId: key.current,
      }),
    onSuccess: (r) => {
      key.current = requestId();
      void client.invalidateQueries({ queryKey: ["leads"] });
      form.resetFields();
      onClose();
      if (r.lead) navigate(`/leads/${r.lead.id}`);
    },
    onError: (e) => setProblem(showViolations(form, e, "lead", [...LEAD_FIELDS, "ownerId"])),
  });
  return (
    <Modal
      open={open}
      title={t("leads.new")}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      onOk={() => form.submit()}
      okButtonProps={{ loading: create.isPending, id: "lead-save" }}
      onCancel={onClose}
      width={640}
    >
      <ErrorNotice problem={problem} />
      <Form name="new-lead" form={form} layout="vertical" onFinish={(v) => create.mutate(v)} style={{ marginTop: 16 }}>
        <LeadFields />
        <Form.Item name="toPool" valuePropName="checked">
          <Checkbox>{t("leads.toPool")}</Checkbox>
        </Form.Item>
        {canAssign && (
          <Form.Item name="ownerId" label={t("leads.field.owner")}>
            <EmployeePicker ariaLabel={t("leads.field.owner")} />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}

export default function Leads() {
  const { t } = useI18n();
  const [creating, setCreating] = useState(false);
  const [tab, setTab] = useState<Tab>("mine");
  return (
    <>
      <Space style={{ justifyContent: "space-between", width: "100%", marginBottom: 8 }}>
        <h1 style={{ margin: 0 }}>{t("leads.title")}</h1>
        {allows(session(), "sales.lead.create") && (
          <Button type="primary" id="lead-new" onClick={() => setCreating(true)}>
            {t("leads.new")}
          </Button>
        )}
      </Space>
      <Tabs
        activeKey={tab}
        onChange={(k) => setTab(k as Tab)}
        destroyOnHidden
        items={[
          { key: "mine", label: t("leads.tab.mine"), children: <LeadList tab="mine" /> },
          { key: "pool", label: t("leads.tab.pool"), children: <LeadList tab="pool" /> },
        ]}
      />
      <NewLeadForm open={creating} onClose={() => setCreating(false)} />
    </>
  );
}
