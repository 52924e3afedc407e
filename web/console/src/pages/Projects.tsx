// The projects: the caller's scope's projects (open or terminated), and a new project made of
// an audited, won opportunity.

import { useRef, useState } from "react";
import { Button, Form, Input, Modal, Select, Space, Table, Tag, Typography } from "antd";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { ProjectStatus, type Project } from "../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";
import { projectFilter } from "./sales/filters";
import { projectStatusKey } from "./sales/labels";
import { chosen, money, requestId, showViolations, when } from "./sales/shared";

interface NewProject {
  opportunityId?: string;
  name?: string;
}

function NewProjectForm({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<NewProject>();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const key = useRef(requestId());
  const won = useQuery({
    queryKey: ["opportunities", "won-audited"],
    enabled: open,
    queryFn: ({ signal }) => sales.listOpportunities({ filter: 'status = "won" AND audited = true', pageSize: 200 }, { signal }),
  });
  const create = useMutation({
    mutationFn: (v: NewProject) =>
      sales.createProject({ opportunityId: v.opportunityId ?? "", name: (v.name ?? "").trim(), requestId: key.current }),
    onSuccess: (r) => {
      key.current = requestId();
      void client.invalidateQueries({ queryKey: ["projects"] });
      form.resetFields();
      onClose();
      if (r.project) navigate(`/projects/${r.project.id}`);
    },
    onError: (e) => setProblem(showViolations(form, e, "", ["opportunityId", "name"])),
  });
  return (
    <Modal
      open={open}
      title={t("projects.new")}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      onOk={() => form.submit()}
      okButtonProps={{ loading: create.isPending, id: "project-save" }}
      onCancel={onClose}
    >
      <Typography.Paragraph>{t("projects.newHelp")}</Typography.Paragraph>
      <ErrorNotice problem={problem ?? (won.error ? problemFromError(won.error) : null)} />
      <Form name="project" form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
        <Form.Item name="opportunityId" label={t("projects.field.opportunity")} rules={[chosen(t("leads.required"))]}>
          <Select
            showSearch
            optionFilterProp="label"
            loading={won.isFetching}
            notFoundContent={t("projects.noWonDeals")}
            options={(won.data?.opportunities ?? []).map((o) => ({ value: o.id, label: o.subject }))}
          />
        </Form.Item>
        <Form.Item name="name" label={t("projects.field.name")} extra={t("projects.nameHelp")}>
          <Input />
        </Form.Item>
      </Form>
    </Modal>
  );
}

export default function Projects() {
  const { t, language } = useI18n();
  const [status, setStatus] = useState<ProjectStatus | undefined>();
  const [creating, setCreating] = useState(false);
  const filter = projectFilter(status);
  const list = useInfiniteQuery({
    queryKey: ["projects", filter],
    queryFn: ({ pageParam, signal }) => sales.listProjects({ filter, pageSize: 50, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: (previous) => previous,
  });
  const rows = list.data?.pages.flatMap((p) => p.projects) ?? [];
  return (
    <>
      <Space style={{ justifyContent: "space-between", width: "100%", marginBottom: 16 }} wrap>
        <Space wrap>
          <h1 style={{ margin: 0 }}>{t("projects.title")}</h1>
          <Select
            id="project-status-filter"
            aria-label={t("projects.field.status")}
            placeholder={t("projects.field.status")}
            allowClear
            value={status}
            onChange={setStatus}
            options={[ProjectStatus.OPEN, ProjectStatus.TERMINATED].map((s) => ({ value: s, label: t(projectStatusKey(s)) }))}
            style={{ width: 160 }}
          />
        </Space>
        {allows(session(), "sales.project.create") && (
          <Button type="primary" id="project-new" onClick={() => setCreating(true)}>
            {t("projects.new")}
          </Button>
        )}
      </Space>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<Project>
        rowKey="id"
        loading={list.isFetching}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: t("projects.empty") }}
        columns={[
          { title: t("projects.field.name"), key: "name", render: (_, p) => <Link to={`/projects/${p.id}`}>{p.name}</Link> },
          { title: t("projects.field.owner"), key: "owner", render: (_, p) => <EmployeeName id={p.ownerId} /> },
          {
            title: t("projects.field.status"),
            key: "status",
            render: (_, p) => <Tag color={p.status === ProjectStatus.OPEN ? "blue" : "default"}>{t(projectStatusKey(p.status))}</Tag>,
          },
          { title: t("projects.field.expectedAmount"), key: "expected", render: (_, p) => money(language, p.expectedAmount) },
          { title: t("projects.field.actualSales"), key: "sales", render: (_, p) => money(language, p.actualSales) },
          { title: t("projects.field.created"), key: "created", render: (_, p) => when(language, p.audit?.createTime) },
        ]}
      />
      {list.hasNextPage && (
        <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage} style={{ marginTop: 8 }}>
          {t("common.more")}
        </Button>
      )}
      <NewProjectForm open={creating} onClose={() => setCreating(false)} />
    </>
  );
}
