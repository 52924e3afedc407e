// One opportunity: its details (edited with an update mask and the etag read), won/lost (with a
// reason)/terminated/re-opened, its activities in order, its stage history and change history.

import { useState } from "react";
import { Button, Card, Descriptions, Drawer, Form, Input, InputNumber, Modal, Select, Space, Spin, Tabs, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { OpportunityStatus, type Opportunity as OpportunityMessage, type Stage } from "../gen/crm/sales/v1/sales_pb.js";
import { customers, sales } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";
import { Activities } from "./sales/Activities";
import { FORECASTS, forecastKey, opportunityStatusKey } from "./sales/labels";
import { changedPaths } from "./sales/mask";
import { OPPORTUNITY_FIELDS, opportunityFromForm, opportunityToForm, type OpportunityFormValues } from "./sales/opportunityForm";
import { ChangeHistory, money, showViolations, usePipelines, when } from "./sales/shared";
import { StageHistory } from "./sales/StageHistory";

function EditOpportunity({ deal, stages, onClose }: { deal: OpportunityMessage; stages: Stage[]; onClose: () => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [form] = Form.useForm<OpportunityFormValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const save = useMutation({
    mutationFn: (v: OpportunityFormValues) => {
      const paths = changedPaths({ ...opportunityToForm(deal) }, { ...v }, OPPORTUNITY_FIELDS);
      if (paths.length === 0) return Promise.resolve(null);
      return sales.updateOpportunity({ opportunity: opportunityFromForm(deal, v), updateMask: { paths } });
    },
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["opportunity", deal.id] });
      void client.invalidateQueries({ queryKey: ["board"] });
      onClose();
    },
    onError: (e) => setProblem(showViolations(form, e, "opportunity", OPPORTUNITY_FIELDS)),
  });
  return (
    <Drawer
      open
      onClose={onClose}
      title={t("pipeline.edit")}
      width={520}
      extra={
        <Button type="primary" id="opportunity-edit-save" onClick={() => form.submit()} loading={save.isPending}>
          {t("common.save")}
        </Button>
      }
    >
      <ErrorNotice problem={problem} />
      <Form name="opp" form={form} layout="vertical" initialValues={opportunityToForm(deal)} onFinish={(v) => save.mutate(v)}>
        <Form.Item name="subject" label={t("pipeline.field.subject")} rules={[{ required: true, whitespace: true, message: t("leads.required") }]}>
          <Input />
        </Form.Item>
        <Form.Item name="stageId" label={t("pipeline.field.stage")}>
          <Select options={stages.map((s) => ({ value: s.id, label: s.name }))} />
        </Form.Item>
        <Form.Item name="probability" label={t("pipeline.field.probability")}>
          <InputNumber min={0} max={100} />
        </Form.Item>
        <Space>
          <Form.Item name="expectedAmount" label={t("pipeline.field.expectedAmount")}>
            <InputNumber<string> stringMode min="0" style={{ width: 200 }} />
          </Form.Item>
          <Form.Item name="expectedCost" label={t("pipeline.field.expectedCost")}>
            <InputNumber<string> stringMode min="0" style={{ width: 200 }} />
          </Form.Item>
        </Space>
        <Space>
          <Form.Item name="startDate" label={t("pipeline.field.startDate")}>
            <Input type="date" />
          </Form.Item>
          <Form.Item name="plannedCloseDate" label={t("pipeline.field.plannedCloseDate")}>
            <Input type="date" />
          </Form.Item>
        </Space>
        <Form.Item name="forecastCategory" label={t("pipeline.field.forecast")}>
          <Select allowClear options={FORECASTS.map((f) => ({ value: f, label: t(forecastKey(f)) }))} />
        </Form.Item>
        <Form.Item name="competitor" label={t("pipeline.field.competitor")}>
          <Input />
        </Form.Item>
        <Form.Item name="remark" label={t("pipeline.field.remark")}>
          <Input.TextArea rows={3} />
        </Form.Item>
      </Form>
    </Drawer>
  );
}

function StatusActions({ deal, onError }: { deal: OpportunityMessage; onError: (p: Problem | null) => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [losing, setLosing] = useState(false);
  const [reason, setReason] = useState("");
  const set = useMutation({
    mutationFn: (v: { status: OpportunityStatus; reason?: string }) =>
      sales.setOpportunityStatus({ id: deal.id, status: v.status, reason: v.reason ?? "" }),
    onSuccess: () => {
      onError(null);
      setLosing(false);
      setReason("");
      void client.invalidateQueries({ queryKey: ["opportunity", deal.id] });
      void client.invalidateQueries({ queryKey: ["board"] });
    },
    onError: (e) => onError(problemFromError(e)),
  });
  if (deal.status !== OpportunityStatus.OPEN) {
    return (
      <Button onClick={() => set.mutate({ status: OpportunityStatus.OPEN })} loading={set.isPending}>
        {t("pipeline.reopen")}
      </Button>
    );
  }
  return (
    <Space wrap>
      <Button id="opportunity-won" onClick={() => set.mutate({ status: OpportunityStatus.WON })} loading={set.isPending && set.variables?.status === OpportunityStatus.WON}>
        {t("pipeline.markWon")}
      </Button>
      <Button onClick={() => setLosing(true)}>
        {t("pipeline.markLost")}
      </Button>
      <Button onClick={() => set.mutate({ status: OpportunityStatus.TERMINATED })} loading={set.isPending && set.variables?.status === OpportunityStatus.TERMINATED}>
        {t("pipeline.terminate")}
      </Button>
      <Modal
        open={losing}
        title={t("pipeline.markLost")}
        okText={t("pipeline.markLost")}
        cancelText={t("common.cancel")}
        okButtonProps={{ disabled: !reason.trim(), loading: set.isPending }}
        onOk={() => set.mutate({ status: OpportunityStatus.LOST, reason })}
        onCancel={() => setLosing(false)}
      >
        <label htmlFor="lost-reason">{t("pipeline.lostReason")}</label>
        <Input.TextArea id="lost-reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
      </Modal>
    </Space>
  );
}

function CustomerLink({ id }: { id: string }) {
  const found = useQuery({
    queryKey: ["customer-name", id],
    enabled: !!id,
    queryFn: ({ signal }) => customers.getCustomer({ id }, { signal }),
    staleTime: 60_000,
  });
  return id ? <Link to={`/customers/${id}`}>{found.data?.customer?.name ?? id}</Link> : null;
}

/** The page, remade for each opportunityId (no state carried from one record to the next). */
export default function OpportunityPage() {
  const { opportunityId = "" } = useParams();
  return <OpportunityView key={opportunityId} opportunityId={opportunityId} />;
}

function OpportunityView({ opportunityId }: { opportunityId: string }) {
  const { t, language } = useI18n();
  const s = session();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [editing, setEditing] = useState(false);
  const pipelines = usePipelines();
  const found = useQuery({
    queryKey: ["opportunity", opportunityId],
    queryFn: ({ signal }) => sales.getOpportunity({ id: opportunityId }, { signal }),
  });
  const deal = found.data?.opportunity;
  if (found.error) return <ErrorNotice problem={problemFromError(found.error)} />;
  if (!deal) return <Spin />;
  const pipeline = pipelines.data?.pipelines.find((p) => p.id === deal.pipelineId);
  const stages = pipeline?.stages ?? [];
  const stage = stages.find((x) => x.id === deal.stageId);
  const canUpdate = allows(s, "sales.opportunity.update");
  const open = deal.status === OpportunityStatus.OPEN;
  return (
    <>
      <Typography.Paragraph>
        <Link to="/pipeline">{t("common.back")}</Link>
      </Typography.Paragraph>
      <Space align="center" wrap style={{ marginBottom: 16 }}>
        <h1 style={{ margin: 0 }}>{deal.subject}</h1>
        <Tag color={open ? "blue" : deal.status === OpportunityStatus.WON ? "green" : "red"} id="opportunity-status">
          {t(opportunityStatusKey(deal.status))}
        </Tag>
        {deal.stuck && <Tag color="red">{t("pipeline.stuck")}</Tag>}
        {deal.audited && <Tag color="purple">{t("pipeline.audited")}</Tag>}
      </Space>
      <ErrorNotice problem={problem} />
      <Card
        title={t("pipeline.details")}
        style={{ marginBottom: 16 }}
        extra={
          canUpdate && (
            <Space wrap>
              <StatusActions deal={deal} onError={setProblem} />
              {open && (
                <Button id="opportunity-edit" onClick={() => setEditing(true)}>
                  {t("common.edit")}
                </Button>
              )}
            </Space>
          )
        }
      >
        <Descriptions
          column={{ xs: 1, md: 2, xl: 3 }}
          items={[
            { key: "customer", label: t("pipeline.field.customer"), children: <CustomerLink id={deal.customerId} /> },
            { key: "owner", label: t("pipeline.field.owner"), children: <EmployeeName id={deal.ownerId} /> },
            { key: "stage", label: t("pipeline.field.stage"), children: `${pipeline?.name ?? ""} · ${stage?.name ?? ""}` },
            { key: "probability", label: t("pipeline.field.probability"), children: `${deal.probability}%` },
            { key: "amount", label: t("pipeline.field.expectedAmount"), children: money(language, deal.expectedAmount) },
            { key: "cost", label: t("pipeline.field.expectedCost"), children: money(language, deal.expectedCost) },
            { key: "weighted", label: t("pipeline.field.opportunityAmount"), children: money(language, deal.opportunityAmount) },
            { key: "profit", label: t("pipeline.field.expectedProfit"), children: money(language, deal.expectedProfit) },
            { key: "start", label: t("pipeline.field.startDate"), children: deal.startDate },
            { key: "close", label: t("pipeline.field.plannedCloseDate"), children: deal.plannedCloseDate },
            { key: "actual", label: t("pipeline.field.actualCloseDate"), children: deal.actualCloseDate },
            { key: "forecast", label: t("pipeline.field.forecast"), children: deal.forecastCategory ? t(forecastKey(deal.forecastCategory)) : "" },
            { key: "competitor", label: t("pipeline.field.competitor"), children: deal.competitor },
            { key: "since", label: t("pipeline.field.inStageSince"), children: when(language, deal.stageEnterTime) },
            ...(deal.leadId ? [{ key: "lead", label: t("pipeline.field.lead"), children: <Link to={`/leads/${deal.leadId}`}>{t("pipeline.openLead")}</Link> }] : []),
            ...(deal.lostReason ? [{ key: "lost", label: t("pipeline.lostReason"), children: deal.lostReason }] : []),
            { key: "remark", label: t("pipeline.field.remark"), children: deal.remark },
          ]}
        />
      </Card>
      <Tabs
        items={[
          {
            key: "activities",
            label: t("pipeline.activities"),
            children: <Activities deal={deal} stages={stages} canWrite={allows(s, "sales.activity.write")} />,
          },
          { key: "stages", label: t("pipeline.stageHistory"), children: <StageHistory opportunityId={deal.id} /> },
          {
            key: "changes",
            label: t("sales.changes.title"),
            children: (
              <ChangeHistory
                queryKey={["opportunity", deal.id, "changes"]}
                load={(pageToken, signal) => sales.listOpportunityChanges({ opportunityId: deal.id, pageSize: 50, pageToken }, { signal })}
              />
            ),
          },
        ]}
      />
      {editing && <EditOpportunity deal={deal} stages={stages} onClose={() => setEditing(false)} />}
    </>
  );
}
