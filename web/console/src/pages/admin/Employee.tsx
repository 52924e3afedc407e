// An employee's page (administration): the details and their edit (only the changed fields, in
// an update mask, against the record's etag), a new password set by an administrator, and the
// handover of their open records to a successor, by deactivating them or as a territory change,
// each with its dry run first.

import { useState } from "react";
import { Button, Card, Descriptions, Drawer, Form, Input, Modal, Space, Tag, Typography, message } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Link, useParams } from "react-router";
import { identity } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { allows, session } from "../../api/session";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { EmployeeStatus, type Employee as EmployeeRecord } from "../../gen/crm/identity/v1/identity_pb.js";
import { useI18n } from "../../i18n";
import { formatTime } from "../../i18n/locale";
import { useDepartments, useRoles } from "./data";
import { EmployeeFields } from "./EmployeeForm";
import { StatusTag } from "./Employees";
import { Handover } from "./Handover";
import { employeeMask, formField, type EmployeeFormValues } from "./logic";

function EditEmployee({ employee, open, onClose }: { employee: EmployeeRecord; open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<EmployeeFormValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (v: EmployeeFormValues) =>
      identity.updateEmployee({
        employee: {
          id: employee.id,
          etag: employee.etag,
          displayName: v.displayName.trim(),
          email: v.email?.trim() ?? "",
          phone: v.phone?.trim() ?? "",
          departmentId: v.departmentId,
          managerId: v.managerId ?? "",
          roleIds: v.roleIds ?? [],
        },
        updateMask: { paths: employeeMask(employee, v) },
      }),
    onSuccess: (answer) => {
      if (answer.employee) queryClient.setQueryData(["employee", employee.id], { $typeName: "crm.identity.v1.GetEmployeeResponse", employee: answer.employee });
      void queryClient.invalidateQueries({ queryKey: ["employee", employee.id] });
      void queryClient.invalidateQueries({ queryKey: ["employees"] });
      void queryClient.invalidateQueries({ queryKey: ["directory"] });
      onClose();
    },
    onError: (e) => {
      const p = problemFromError(e);
      setProblem(p);
      form.setFields(p.violations.map((v) => ({ name: formField(v.field) as keyof EmployeeFormValues, errors: [v.description] })));
    },
  });
  return (
    <Drawer title={t("admin.employee.edit")} open={open} onClose={onClose} width={480} destroyOnHidden>
      <Form<EmployeeFormValues>
        form={form}
        name="edit-employee"
        layout="vertical"
        initialValues={{
          displayName: employee.displayName,
          email: employee.email,
          phone: employee.phone,
          departmentId: employee.departmentId,
          managerId: employee.managerId || undefined,
          roleIds: employee.roleIds,
        }}
        onFinish={(v) => {
          setProblem(null);
          if (employeeMask(employee, v).length === 0) onClose();
          else save.mutate(v);
        }}
      >
        <EmployeeFields creating={false} employeeId={employee.id} />
        <ErrorNotice problem={problem} />
        <Space style={{ marginTop: 16 }}>
          <Button type="primary" htmlType="submit" loading={save.isPending}>
            {t("common.save")}
          </Button>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </Drawer>
  );
}

function ResetPassword({ employeeId, open, onClose }: { employeeId: string; open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<{ newPassword: string }>();
  const [messages, holder] = message.useMessage();
  const reset = useMutation({
    mutationFn: (newPassword: string) => identity.resetPassword({ id: employeeId, newPassword }),
    onSuccess: () => {
      void messages.success(t("admin.password.done"));
      form.resetFields();
      onClose();
    },
  });
  return (
    <>
      {holder}
      <Modal
        title={t("admin.password.title")}
        open={open}
        onCancel={onClose}
        okText={t("common.save")}
        cancelText={t("common.cancel")}
        confirmLoading={reset.isPending}
        onOk={() => void form.validateFields().then((v) => reset.mutate(v.newPassword))}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">{t("admin.password.explain")}</Typography.Paragraph>
        <Form form={form} name="reset-password" layout="vertical">
          <Form.Item name="newPassword" label={t("admin.password.new")} rules={[{ required: true, message: t("admin.required") }, { min: 8, message: t("admin.passwordLength") }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
        </Form>
        <ErrorNotice problem={reset.error ? problemFromError(reset.error) : null} />
      </Modal>
    </>
  );
}

export default function Employee() {
  const { employeeId = "" } = useParams();
  const { t, language } = useI18n();
  const [editing, setEditing] = useState(false);
  const [resetting, setResetting] = useState(false);
  const answer = useQuery({
    queryKey: ["employee", employeeId],
    queryFn: ({ signal }) => identity.getEmployee({ id: employeeId }, { signal }),
  });
  const departments = useDepartments();
  const roles = useRoles();
  const employee = answer.data?.employee;
  const s = session();
  if (answer.error) return <ErrorNotice problem={problemFromError(answer.error)} />;
  if (!employee) return <Typography.Text>{t("common.loading")}</Typography.Text>;
  const active = employee.status !== EmployeeStatus.DEACTIVATED;
  const departmentName = departments.data?.departments.find((d) => d.id === employee.departmentId)?.name ?? employee.departmentId;
  const roleName = new Map((roles.data?.roles ?? []).map((r) => [r.id, r.name]));
  const time = (at: Parameters<typeof timestampDate>[0] | undefined) => (at ? formatTime(language, timestampDate(at)) : "");
  return (
    <Space direction="vertical" size="large" style={{ width: "100%" }}>
      <Link to="/admin/employees">{t("common.back")}</Link>
      <Space align="center">
        <Typography.Title level={2} style={{ margin: 0 }}>
          {employee.displayName}
        </Typography.Title>
        <span data-testid="employee-status">
          <StatusTag status={employee.status} />
        </span>
      </Space>
      <Card
        title={t("admin.employee.details")}
        extra={
          <Space>
            {active && allows(s, "identity.employee.update") && <Button onClick={() => setEditing(true)}>{t("common.edit")}</Button>}
            {active && allows(s, "identity.employee.reset_password") && <Button onClick={() => setResetting(true)}>{t("admin.password.title")}</Button>}
          </Space>
        }
      >
        <Descriptions column={{ xs: 1, md: 2 }} bordered size="small">
          <Descriptions.Item label={t("admin.employee.login")}>{employee.login}</Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.displayName")}>{employee.displayName}</Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.email")}>{employee.email}</Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.phone")}>{employee.phone}</Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.department")}>{departmentName}</Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.manager")}>
            <EmployeeName id={employee.managerId} />
          </Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.roles")}>
            {employee.roleIds.map((r) => (
              <Tag key={r}>{roleName.get(r) ?? r}</Tag>
            ))}
          </Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.lockedUntil")}>{time(employee.lockedUntil)}</Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.created")}>{time(employee.audit?.createTime)}</Descriptions.Item>
          <Descriptions.Item label={t("admin.employee.updated")}>{time(employee.audit?.updateTime)}</Descriptions.Item>
        </Descriptions>
      </Card>
      {active && allows(s, "identity.employee.deactivate") && (
        <Card title={t("admin.deactivate.title")}>
          <Handover employeeId={employee.id} mode="deactivate" />
        </Card>
      )}
      {active && allows(s, "identity.employee.handover") && (
        <Card title={t("admin.handover.title")}>
          <Handover employeeId={employee.id} mode="handover" />
        </Card>
      )}
      {editing && <EditEmployee employee={employee} open={editing} onClose={() => setEditing(false)} />}
      <ResetPassword employeeId={employee.id} open={resetting} onClose={() => setResetting(false)} />
    </Space>
  );
}
