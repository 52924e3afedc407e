// One lead: its details (edited with an update mask and the etag read), its status along
// new → contacting → qualified (or disqualified with a reason), its follow-ups, its change
// history, ownership actions, and the conversion into a customer (with the duplicate offer).

import { useState } from "react";
import { Button, Card, Descriptions, Drawer, Form, Input, Modal, Space, Spin, Tabs, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { LeadStatus, type Lead as LeadMessage } from "../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";
import { ConvertDialog } from "./sales/ConvertDialog";
import { leadSourceKey, leadStatusKey } from "./sales/labels";
import { LeadActions } from "./sales/LeadActions";
import { LEAD_FIELDS, LeadFields, leadFromForm, leadToForm, type LeadFormValues } from "./sales/LeadFields";
import { LeadFollowUps } from "./sales/LeadFollowUps";
import { changedPaths } from "./sales/mask";
import { ChangeHistory, showViolations, when } from "./sales/shared";

function EditLead({ lead, open, onClose }: { lead: LeadMessage; open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [form] = Form.useForm<LeadFormValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const save = useMutation({
    mutationFn: (v: LeadFormValues) => {
      const paths = changedPaths({ ...leadToForm(lead) }, { ...v }, LEAD_FIELDS);
      if (paths.length === 0) return Promise.resolve(null);
      return sales.updateLead({ lead: { ...leadFromForm(v), id: lead.id, etag: lead.etag }, updateMask: { paths } });
    },
    onSuccess: () => {
      setProblem(null);
      void client.invalidateQueries({ queryKey: ["lead", lead.id] });
      void client.invalidateQueries({ queryKey: ["leads"] });
      onClose();
    },
    onError: (e) => setProblem(showViolations(form, e, "lead", LEAD_FIELDS)),
  });
  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={t("leads.edit")}
      width={520}
      destroyOnHidden
      extra={
        <Button type="primary" id="lead-edit-save" onClick={() => form.submit()} loading={save.isPending}>
          {t("common.save")}
        </Button>
      }
    >
      <ErrorNotice problem={problem} />
      <Form name="edit-lead" form={form} layout="vertical" initialValues={leadToForm(lead)} onFinish={(v) => save.mutate(v)}>
        <LeadFields />
      </Form>
    </Drawer>
  );
}

/** The statuses an open lead can be set to (any but its own; CONVERTED only by conversion). */
const SETTABLE = [LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED];

function StatusButtons({ lead, onError }: { lead: LeadMessage; onError: (p: Problem | null) => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [disqualifying, setDisqualifying] = useState(false);
  const [reason, setReason] = useState("");
  const set = useMutation({
    mutationFn: (v: { status: LeadStatus; reason?: string }) => sales.setLeadStatus({ id: lead.id, status: v.status, reason: v.reason ?? "" }),
    onSuccess: () => {
      onError(null);
      setDisqualifying(false);
      setReason("");
      void client.invalidateQueries({ queryKey: ["lead", lead.id] });
      void client.invalidateQueries({ queryKey: ["leads"] });
    },
    onError: (e) => onError(problemFromError(e)),
  });
  return (
    <Space wrap>
      {SETTABLE.filter((x) => x !== lead.status).map((s) => (
        <Button
          key={s}
          size="small"
          loading={set.isPending && set.variables?.status === s}
          onClick={() => (s === LeadStatus.DISQUALIFIED ? setDisqualifying(true) : set.mutate({ status: s }))}
        >
          {t("leads.setStatus", { status: t(leadStatusKey(s)) })}
        </Button>
      ))}
      <Modal
        open={disqualifying}
        title={t("leads.disqualify")}
        okText={t("leads.disqualify")}
        cancelText={t("common.cancel")}
        okButtonProps={{ disabled: !reason.trim(), loading: set.isPending }}
        onOk={() => set.mutate({ status: LeadStatus.DISQUALIFIED, reason })}
        onCancel={() => setDisqualifying(false)}
      >
        <label htmlFor="disqualify-reason">{t("leads.reason")}</label>
        <Input.TextArea id="disqualify-reason" value={reason} onChange={(e) => setReason(e.target.value)} rows={3} />
      </Modal>
    </Space>
  );
}

/** The page, remade for each leadId (no state carried from one record to the next). */
export default function LeadPage() {
  const { leadId = "" } = useParams();
  return <LeadView key={leadId} leadId={leadId} />;
}

function LeadView({ leadId }: { leadId: string }) {
  const { t, language } = useI18n();
  const s = session();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [editing, setEditing] = useState(false);
  const [converting, setConverting] = useState(false);
  const found = useQuery({
    queryKey: ["lead", leadId],
    queryFn: ({ signal }) => sales.getLead({ id: leadId }, { signal }),
  });
  const lead = found.data?.lead;
  if (found.error) return <ErrorNotice problem={problemFromError(found.error)} />;
  if (!lead) return <Spin />;
  const converted = lead.status === LeadStatus.CONVERTED;
  const canUpdate = allows(s, "sales.lead.update") && !converted;
  return (
    <>
      <Typography.Paragraph>
        <Link to="/leads">{t("common.back")}</Link>
      </Typography.Paragraph>
      <Space align="center" wrap style={{ marginBottom: 16 }}>
        <h1 style={{ margin: 0 }}>{lead.companyName}</h1>
        <Tag color={converted ? "green" : lead.status === LeadStatus.DISQUALIFIED ? "red" : "blue"} id="lead-status">
          {t(leadStatusKey(lead.status))}
        </Tag>
      </Space>
      <ErrorNotice problem={problem} />
      <Card
        title={t("leads.details")}
        extra={
          <Space wrap>
            {canUpdate && <StatusButtons lead={lead} onError={setProblem} />}
            {canUpdate && (
              <Button id="lead-edit" onClick={() => setEditing(true)}>
                {t("common.edit")}
              </Button>
            )}
            {!converted && allows(s, "sales.lead.convert") && (
              <Button type="primary" id="lead-convert" disabled={lead.status !== LeadStatus.QUALIFIED} onClick={() => setConverting(true)}>
                {t("leads.convert.button")}
              </Button>
            )}
          </Space>
        }
        style={{ marginBottom: 16 }}
      >
        <Descriptions
          column={{ xs: 1, md: 2, xl: 3 }}
          items={[
            { key: "contact", label: t("leads.field.contactName"), children: lead.contactName },
            { key: "title", label: t("leads.field.title"), children: lead.title },
            { key: "phone", label: t("leads.field.phone"), children: lead.phone },
            { key: "mobile", label: t("leads.field.mobile"), children: lead.mobile },
            { key: "email", label: t("leads.field.email"), children: lead.email },
            { key: "source", label: t("leads.field.source"), children: lead.source ? t(leadSourceKey(lead.source)) : "" },
            { key: "region", label: t("leads.field.region"), children: [lead.province, lead.city].filter(Boolean).join(" ") },
            {
              key: "owner",
              label: t("leads.field.owner"),
              children: (
                <Space wrap>
                  {lead.ownerId ? <EmployeeName id={lead.ownerId} /> : t("leads.inPool")}
                  <LeadActions lead={lead} onError={setProblem} />
                </Space>
              ),
            },
            { key: "last", label: t("leads.field.lastFollowUp"), children: when(language, lead.lastFollowUpTime) },
            { key: "next", label: t("leads.field.nextFollowUp"), children: when(language, lead.nextFollowUpTime) },
            { key: "created", label: t("leads.field.created"), children: when(language, lead.audit?.createTime) },
            { key: "remark", label: t("leads.field.remark"), children: lead.remark },
            ...(lead.status === LeadStatus.DISQUALIFIED
              ? [{ key: "why", label: t("leads.reason"), children: lead.disqualifiedReason }]
              : []),
            ...(converted
              ? [
                  {
                    key: "customer",
                    label: t("leads.convertedTo"),
                    children: (
                      <Space wrap>
                        <Link to={`/customers/${lead.convertedCustomerId}`}>{t("leads.convert.openCustomer")}</Link>
                        {lead.convertedOpportunityId && (
                          <Link to={`/opportunities/${lead.convertedOpportunityId}`}>{t("leads.convert.opportunity")}</Link>
                        )}
                        {when(language, lead.convertTime)}
                      </Space>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Card>
      {converting && <ConvertDialog lead={lead} onClose={() => setConverting(false)} />}
      <Tabs
        items={[
          {
            key: "followUps",
            label: t("leads.followUps"),
            children: <LeadFollowUps leadId={lead.id} canWrite={canUpdate} />,
          },
          {
            key: "changes",
            label: t("sales.changes.title"),
            children: (
              <ChangeHistory
                queryKey={["lead", lead.id, "changes"]}
                load={(pageToken, signal) => sales.listLeadChanges({ leadId: lead.id, pageSize: 50, pageToken }, { signal })}
              />
            ),
          },
        ]}
      />
      {editing && <EditLead lead={lead} open={editing} onClose={() => setEditing(false)} />}
    </>
  );
}
