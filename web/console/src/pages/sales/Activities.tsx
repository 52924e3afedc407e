// An opportunity's activities in order (sequence 1, 2, ...): each records what happened and
// where the deal stood (stage, probability); completing one (in order) moves the opportunity to
// its figures. New activities are added here; open ones are completed, any deleted.

import { useState } from "react";
import { Button, Form, Input, InputNumber, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ActivityMethod, OpportunityStatus, type Activity, type Opportunity, type Stage } from "../../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { METHODS, methodKey } from "./labels";
import { chosen, fromLocalInput, localInput, money, showViolations, when } from "./shared";

interface ActivityForm {
  method?: ActivityMethod;
  activityTime?: string;
  summary?: string;
  stageId?: string;
  probability?: number | null;
}

const FIELDS = ["method", "activityTime", "summary", "stageId", "probability"];

export function Activities({ deal, stages, canWrite }: { deal: Opportunity; stages: Stage[]; canWrite: boolean }) {
  const { t, language } = useI18n();
  const client = useQueryClient();
  const [form] = Form.useForm<ActivityForm>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const names = new Map(stages.map((s) => [s.id, s.name]));
  const list = useQuery({
    queryKey: ["opportunity", deal.id, "activities"],
    queryFn: ({ signal }) => sales.listActivities({ opportunityId: deal.id }, { signal }),
  });
  const refresh = () => {
    setProblem(null);
    void client.invalidateQueries({ queryKey: ["opportunity", deal.id] });
    void client.invalidateQueries({ queryKey: ["board"] });
  };
  const create = useMutation({
    mutationFn: (v: ActivityForm) => {
      const at = fromLocalInput(v.activityTime);
      return sales.createActivity({
        activity: {
          opportunityId: deal.id,
          method: v.method ?? ActivityMethod.UNSPECIFIED,
          summary: v.summary ?? "",
          activityTime: at ? timestampFromDate(at) : undefined,
          stageId: v.stageId ?? "",
          probability: v.probability ?? 0,
        },
      });
    },
    onSuccess: () => {
      form.resetFields();
      refresh();
    },
    onError: (e) => setProblem(showViolations(form, e, "activity", FIELDS)),
  });
  const complete = useMutation({
    mutationFn: (a: Activity) => sales.completeActivity({ id: a.id }),
    onSuccess: refresh,
    onError: (e) => setProblem(problemFromError(e)),
  });
  const remove = useMutation({
    mutationFn: (a: Activity) => sales.deleteActivity({ id: a.id }),
    onSuccess: refresh,
    onError: (e) => setProblem(problemFromError(e)),
  });
  const rows = [...(list.data?.activities ?? [])].sort((a, b) => a.sequence - b.sequence);
  const open = canWrite && deal.status === OpportunityStatus.OPEN;
  return (
    <>
      <ErrorNotice problem={problem ?? (list.error ? problemFromError(list.error) : null)} />
      <Table<Activity>
        rowKey="id"
        size="small"
        loading={list.isFetching}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t("pipeline.activity.empty") }}
        columns={[
          { title: "#", dataIndex: "sequence", width: 48 },
          { title: t("sales.method"), key: "method", render: (_, a) => t(methodKey(a.method)) },
          { title: t("pipeline.activity.time"), key: "time", render: (_, a) => when(language, a.activityTime) },
          { title: t("pipeline.activity.summary"), dataIndex: "summary" },
          { title: t("pipeline.field.stage"), key: "stage", render: (_, a) => names.get(a.stageId) ?? "" },
          { title: t("pipeline.field.probability"), key: "p", render: (_, a) => `${a.probability}%` },
          { title: t("pipeline.field.expectedAmount"), key: "amount", render: (_, a) => money(language, a.expectedAmount) },
          {
            title: t("pipeline.activity.state"),
            key: "done",
            render: (_, a) =>
              a.completed ? <Tag color="green">{t("pipeline.activity.completed")}</Tag> : <Tag>{t("pipeline.activity.open")}</Tag>,
          },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_, a) =>
              open && (
                <Space>
                  {!a.completed && (
                    <Button size="small" onClick={() => complete.mutate(a)} loading={complete.isPending && complete.variables?.id === a.id}>
                      {t("pipeline.activity.complete")}
                    </Button>
                  )}
                  <Popconfirm title={t("common.confirm")} onConfirm={() => remove.mutate(a)} okText={t("common.delete")} cancelText={t("common.cancel")}>
                    <Button size="small">
                      {t("common.delete")}
                    </Button>
                  </Popconfirm>
                </Space>
              ),
          },
        ]}
      />
      {open && (
        <Form name="activity"
          form={form}
          layout="vertical"
          onFinish={(v) => create.mutate(v)}
          initialValues={{ stageId: deal.stageId, activityTime: localInput(new Date()) }}
          style={{ maxWidth: 640, marginTop: 16 }}
        >
          <Typography.Title level={4}>{t("pipeline.activity.new")}</Typography.Title>
          <Space wrap align="start">
            <Form.Item name="method" label={t("sales.method")} rules={[chosen(t("leads.required"))]}>
              <Select style={{ width: 160 }} options={METHODS.map((m) => ({ value: m, label: t(methodKey(m)) }))} />
            </Form.Item>
            <Form.Item name="activityTime" label={t("pipeline.activity.time")}>
              <Input type="datetime-local" />
            </Form.Item>
            <Form.Item name="stageId" label={t("pipeline.field.stage")}>
              <Select style={{ width: 180 }} options={stages.map((s) => ({ value: s.id, label: s.name }))} />
            </Form.Item>
            <Form.Item name="probability" label={t("pipeline.field.probability")}>
              <InputNumber min={0} max={100} />
            </Form.Item>
          </Space>
          <Form.Item name="summary" label={t("pipeline.activity.summary")} rules={[{ required: true, whitespace: true, message: t("leads.required") }]}>
            <Input.TextArea rows={2} />
          </Form.Item>
          <Button type="primary" htmlType="submit" id="activity-save" loading={create.isPending}>
            {t("pipeline.activity.add")}
          </Button>
        </Form>
      )}
    </>
  );
}
