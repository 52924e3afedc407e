// One project: its details (name, actual cost and sales, partners, remark edited with an update
// mask and the etag read), terminating or re-opening it, a follow-up opportunity copied from it,
// its maintenance records and its documents.

import { useState } from "react";
import { Button, Card, Descriptions, Drawer, Form, Input, InputNumber, Popconfirm, Select, Space, Spin, Tabs, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { ProjectStatus, type Project as ProjectMessage } from "../gen/crm/sales/v1/sales_pb.js";
import { sales } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";
import { Documents } from "./sales/Documents";
import { projectStatusKey } from "./sales/labels";
import { Maintenance } from "./sales/Maintenance";
import { changedPaths } from "./sales/mask";
import { money, requestId, showViolations, useStageNames, when } from "./sales/shared";

interface ProjectForm {
  name?: string;
  actualCost?: string | null;
  actualSales?: string | null;
  partners?: string[];
  remark?: string;
}

const FIELDS = ["name", "actualCost", "actualSales", "partners", "remark"] as const;

function toForm(p: ProjectMessage): ProjectForm {
  return { name: p.name, actualCost: p.actualCost?.amount ?? "", actualSales: p.actualSales?.amount ?? "", partners: p.partners, remark: p.remark };
}

function EditProject({ project, onClose }: { project: ProjectMessage; onClose: () => void }) {
  const { t } = useI18n();
  const client = useQueryClient();
  const [form] = Form.useForm<ProjectForm>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const currencyCode = project.expectedAmount?.currencyCode || project.actualSales?.currencyCode || "CNY";
  const amount = (a: string | null | undefined) => (a && String(a).trim() ? { currencyCode, amount: String(a).trim() } : undefined);
  const save = useMutation({
    mutationFn: (v: ProjectForm) => {
      const paths = changedPaths({ ...toForm(project) }, { ...v }, FIELDS);
      if (paths.length === 0) return Promise.resolve(null);
      return sales.updateProject({
        project: {
          id: project.id,
          etag: project.etag,
          name: (v.name ?? "").trim(),
          actualCost: amount(v.actualCost),
          actualSales: amount(v.actualSales),
          partners: v.partners ?? [],
          remark: v.remark ?? "",
        },
        updateMask: { paths },
      });
    },
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["project", project.id] });
      void client.invalidateQueries({ queryKey: ["projects"] });
      onClose();
    },
    onError: (e) => setProblem(showViolations(form, e, "project", FIELDS)),
  });
  return (
    <Drawer
      open
      onClose={onClose}
      title={t("projects.edit")}
      width={480}
      extra={
        <Button type="primary" id="project-edit-save" onClick={() => form.submit()} loading={save.isPending}>
          {t("common.save")}
        </Button>
      }
    >
      <ErrorNotice problem={problem} />
      <Form name="project-edit" form={form} layout="vertical" initialValues={toForm(project)} onFinish={(v) => save.mutate(v)}>
        <Form.Item name="name" label={t("projects.field.name")} rules={[{ required: true, whitespace: true, message: t("leads.required") }]}>
          <Input />
        </Form.Item>
        <Form.Item name="actualCost" label={t("projects.field.actualCost")}>
          <InputNumber<string> stringMode min="0" style={{ width: 200 }} />
        </Form.Item>
        <Form.Item name="actualSales" label={t("projects.field.actualSales")}>
          <InputNumber<string> stringMode min="0" style={{ width: 200 }} />
        </Form.Item>
        <Form.Item name="partners" label={t("projects.field.partners")}>
          <Select mode="tags" open={false} suffixIcon={null} />
        </Form.Item>
        <Form.Item name="remark" label={t("projects.field.remark")}>
          <Input.TextArea rows={3} />
        </Form.Item>
      </Form>
    </Drawer>
  );
}

/** The page, remade for each projectId (no state carried from one record to the next). */
export default function ProjectPage() {
  const { projectId = "" } = useParams();
  return <ProjectView key={projectId} projectId={projectId} />;
}

function ProjectView({ projectId }: { projectId: string }) {
  const { t, language } = useI18n();
  const s = session();
  const client = useQueryClient();
  const navigate = useNavigate();
  const stageNames = useStageNames();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [editing, setEditing] = useState(false);
  const found = useQuery({ queryKey: ["project", projectId], queryFn: ({ signal }) => sales.getProject({ id: projectId }, { signal }) });
  const setStatus = useMutation({
    mutationFn: (status: ProjectStatus) => sales.setProjectStatus({ id: projectId, status }),
    onSuccess: () => {
      setProblem(null);
      void client.invalidateQueries({ queryKey: ["project", projectId] });
      void client.invalidateQueries({ queryKey: ["projects"] });
    },
    onError: (e) => setProblem(problemFromError(e)),
  });
  const copy = useMutation({
    mutationFn: () => sales.copyProjectToOpportunity({ id: projectId, requestId: requestId() }),
    onSuccess: (r) => r.opportunity && navigate(`/opportunities/${r.opportunity.id}`),
    onError: (e) => setProblem(problemFromError(e)),
  });
  const project = found.data?.project;
  if (found.error) return <ErrorNotice problem={problemFromError(found.error)} />;
  if (!project) return <Spin />;
  const open = project.status === ProjectStatus.OPEN;
  const canUpdate = allows(s, "sales.project.update");
  return (
    <>
      <Typography.Paragraph>
        <Link to="/projects">{t("common.back")}</Link>
      </Typography.Paragraph>
      <Space align="center" wrap style={{ marginBottom: 16 }}>
        <h1 style={{ margin: 0 }}>{project.name}</h1>
        <Tag color={open ? "blue" : "default"}>
          {t(projectStatusKey(project.status))}
        </Tag>
      </Space>
      <ErrorNotice problem={problem} />
      <Card
        title={t("projects.details")}
        style={{ marginBottom: 16 }}
        extra={
          <Space wrap>
            {canUpdate && open && (
              <Button id="project-edit" onClick={() => setEditing(true)}>
                {t("common.edit")}
              </Button>
            )}
            {canUpdate &&
              (open ? (
                <Popconfirm title={t("common.confirm")} onConfirm={() => setStatus.mutate(ProjectStatus.TERMINATED)} okText={t("projects.terminate")} cancelText={t("common.cancel")}>
                  <Button loading={setStatus.isPending}>
                    {t("projects.terminate")}
                  </Button>
                </Popconfirm>
              ) : (
                <Button onClick={() => setStatus.mutate(ProjectStatus.OPEN)} loading={setStatus.isPending}>
                  {t("projects.reopen")}
                </Button>
              ))}
            {allows(s, "sales.opportunity.create") && (
              <Button onClick={() => copy.mutate()} loading={copy.isPending}>
                {t("projects.copy")}
              </Button>
            )}
          </Space>
        }
      >
        <Descriptions
          column={{ xs: 1, md: 2, xl: 3 }}
          items={[
            { key: "customer", label: t("projects.field.customer"), children: <Link to={`/customers/${project.customerId}`}>{t("projects.openCustomer")}</Link> },
            { key: "opportunity", label: t("projects.field.opportunity"), children: <Link to={`/opportunities/${project.opportunityId}`}>{t("projects.openOpportunity")}</Link> },
            { key: "owner", label: t("projects.field.owner"), children: <EmployeeName id={project.ownerId} /> },
            { key: "stage", label: t("projects.field.stage"), children: stageNames.get(project.stageId) ?? "" },
            { key: "probability", label: t("projects.field.probability"), children: `${project.probability}%` },
            { key: "expected", label: t("projects.field.expectedAmount"), children: money(language, project.expectedAmount) },
            { key: "expectedCost", label: t("projects.field.expectedCost"), children: money(language, project.expectedCost) },
            { key: "actualCost", label: t("projects.field.actualCost"), children: money(language, project.actualCost) },
            { key: "actualSales", label: t("projects.field.actualSales"), children: money(language, project.actualSales) },
            { key: "profit", label: t("projects.field.actualProfit"), children: money(language, project.actualProfit) },
            { key: "partners", label: t("projects.field.partners"), children: project.partners.join(", ") },
            { key: "created", label: t("projects.field.created"), children: when(language, project.audit?.createTime) },
            { key: "remark", label: t("projects.field.remark"), children: project.remark },
          ]}
        />
      </Card>
      <Tabs
        items={[
          { key: "maintenance", label: t("projects.maintenance.title"), children: <Maintenance projectId={project.id} canWrite={canUpdate && open} /> },
          { key: "documents", label: t("projects.document.title"), children: <Documents projectId={project.id} canWrite={canUpdate && open} /> },
        ]}
      />
      {editing && <EditProject project={project} onClose={() => setEditing(false)} />}
    </>
  );
}
