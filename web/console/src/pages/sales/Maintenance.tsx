// A project's maintenance records in order: visits and jobs, completed in order (a completed
// one is frozen), added and deleted while the project is open.

import { useState } from "react";
import { Button, Form, Input, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ActivityMethod, type MaintenanceRecord } from "../../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { METHODS, methodKey } from "./labels";
import { chosen, fromLocalInput, localInput, showViolations, when } from "./shared";

interface RecordForm {
  method?: ActivityMethod;
  recordTime?: string;
  summary?: string;
}

export function Maintenance({ projectId, canWrite }: { projectId: string; canWrite: boolean }) {
  const { t, language } = useI18n();
  const client = useQueryClient();
  const [form] = Form.useForm<RecordForm>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const key = ["project", projectId, "maintenance"];
  const list = useQuery({ queryKey: key, queryFn: ({ signal }) => sales.listMaintenanceRecords({ projectId }, { signal }) });
  const refresh = () => {
    setProblem(null);
    void client.invalidateQueries({ queryKey: key });
  };
  const create = useMutation({
    mutationFn: (v: RecordForm) => {
      const at = fromLocalInput(v.recordTime);
      return sales.createMaintenanceRecord({
        record: { projectId, method: v.method ?? ActivityMethod.UNSPECIFIED, summary: v.summary ?? "", recordTime: at ? timestampFromDate(at) : undefined },
      });
    },
    onSuccess: () => {
      form.resetFields();
      refresh();
    },
    onError: (e) => setProblem(showViolations(form, e, "record", ["method", "recordTime", "summary"])),
  });
  const complete = useMutation({
    mutationFn: (r: MaintenanceRecord) => sales.completeMaintenanceRecord({ id: r.id }),
    onSuccess: refresh,
    onError: (e) => setProblem(problemFromError(e)),
  });
  const remove = useMutation({
    mutationFn: (r: MaintenanceRecord) => sales.deleteMaintenanceRecord({ id: r.id }),
    onSuccess: refresh,
    onError: (e) => setProblem(problemFromError(e)),
  });
  const rows = [...(list.data?.records ?? [])].sort((a, b) => a.sequence - b.sequence);
  return (
    <>
      <ErrorNotice problem={problem ?? (list.error ? problemFromError(list.error) : null)} />
      <Table<MaintenanceRecord>
        rowKey="id"
        size="small"
        loading={list.isFetching}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t("projects.maintenance.empty") }}
        columns={[
          { title: "#", dataIndex: "sequence", width: 48 },
          { title: t("sales.method"), key: "method", render: (_, r) => t(methodKey(r.method)) },
          { title: t("projects.maintenance.time"), key: "time", render: (_, r) => when(language, r.recordTime) },
          { title: t("projects.maintenance.summary"), dataIndex: "summary" },
          { title: t("projects.maintenance.by"), key: "by", render: (_, r) => <EmployeeName id={r.audit?.createdBy} /> },
          {
            title: t("projects.maintenance.state"),
            key: "state",
            render: (_, r) =>
              r.completed ? <Tag color="green">{t("projects.maintenance.completed")}</Tag> : <Tag>{t("projects.maintenance.open")}</Tag>,
          },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_, r) =>
              canWrite && (
                <Space>
                  {!r.completed && (
                    <Button size="small" onClick={() => complete.mutate(r)}>
                      {t("projects.maintenance.complete")}
                    </Button>
                  )}
                  <Popconfirm title={t("common.confirm")} onConfirm={() => remove.mutate(r)} okText={t("common.delete")} cancelText={t("common.cancel")}>
                    <Button size="small">
                      {t("common.delete")}
                    </Button>
                  </Popconfirm>
                </Space>
              ),
          },
        ]}
      />
      {canWrite && (
        <Form name="record" form={form} layout="vertical" onFinish={(v) => create.mutate(v)} initialValues={{ recordTime: localInput(new Date()) }} style={{ maxWidth: 640, marginTop: 16 }}>
          <Typography.Title level={4}>{t("projects.maintenance.new")}</Typography.Title>
          <Space wrap align="start">
            <Form.Item name="method" label={t("sales.method")} rules={[chosen(t("leads.required"))]}>
              <Select style={{ width: 160 }} options={METHODS.map((m) => ({ value: m, label: t(methodKey(m)) }))} />
            </Form.Item>
            <Form.Item name="recordTime" label={t("projects.maintenance.time")}>
              <Input type="datetime-local" />
            </Form.Item>
          </Space>
          <Form.Item name="summary" label={t("projects.maintenance.summary")} rules={[{ required: true, whitespace: true, message: t("leads.required") }]}>
            <Input.TextArea rows={2} />
          </Form.Item>
          <Button type="primary" htmlType="submit" id="record-save" loading={create.isPending}>
            {t("projects.maintenance.add")}
          </Button>
        </Form>
      )}
    </>
  );
}
