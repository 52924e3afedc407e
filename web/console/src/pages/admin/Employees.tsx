// Employees (administration): the people of the company, searched by name or login and
// filtered by status and department, each linking to its page; a new employee is created here
// with an initial password, department, manager and roles.

import { useDeferredValue, useState } from "react";
import { Button, Drawer, Form, Input, Select, Space, Table, Tag, Typography } from "antd";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { identity } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { allows, session } from "../../api/session";
import { EmployeeName } from "../../components/EmployeeName";
import { ErrorNotice } from "../../ErrorNotice";
import { EmployeeStatus, type Employee } from "../../gen/crm/identity/v1/identity_pb.js";
import { useI18n } from "../../i18n";
import { useDepartments, useRoles } from "./data";
import { EmployeeFields } from "./EmployeeForm";
import { departmentOptions, employeeFilter, formField, type EmployeeFormValues, type StatusFilter } from "./logic";

interface NewEmployeeValues extends EmployeeFormValues {
  login: string;
  password: string;
}

export function StatusTag({ status }: { status: EmployeeStatus }) {
  const { t } = useI18n();
  return status === EmployeeStatus.DEACTIVATED ? <Tag color="default">{t("admin.status.deactivated")}</Tag> : <Tag color="blue">{t("admin.status.active")}</Tag>;
}

function NewEmployee({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<NewEmployeeValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: (v: NewEmployeeValues) =>
      identity.createEmployee({
        employee: {
          login: v.login.trim(),
          displayName: v.displayName.trim(),
          email: v.email?.trim() ?? "",
          phone: v.phone?.trim() ?? "",
          departmentId: v.departmentId,
          managerId: v.managerId ?? "",
          roleIds: v.roleIds ?? [],
        },
        password: v.password,
        requestId: crypto.randomUUID(),
      }),
    onSuccess: (answer) => {
      void queryClient.invalidateQueries({ queryKey: ["employees"] });
      void queryClient.invalidateQueries({ queryKey: ["directory"] });
      form.resetFields();
      onClose();
      if (answer.employee) navigate(`/admin/employees/${answer.employee.id}`);
    },
    onError: (e) => {
      const p = problemFromError(e);
      setProblem(p);
      form.setFields(p.violations.map((v) => ({ name: formField(v.field) as keyof NewEmployeeValues, errors: [v.description] })));
    },
  });
  return (
    <Drawer title={t("admin.employees.new")} open={open} onClose={onClose} width={480} destroyOnHidden>
      <Form<NewEmployeeValues>
        form={form}
        name="new-employee"
        layout="vertical"
        onFinish={(v) => {
          setProblem(null);
          create.mutate(v);
        }}
      >
        <EmployeeFields creating />
        <ErrorNotice problem={problem} />
        <Space style={{ marginTop: 16 }}>
          <Button type="primary" htmlType="submit" loading={create.isPending}>
            {t("common.save")}
          </Button>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </Drawer>
  );
}

export default function Employees() {
  const { t } = useI18n();
  const [typed, setTyped] = useState("");
  const query = useDeferredValue(typed.trim());
  const [status, setStatus] = useState<StatusFilter>("active");
  const [departmentId, setDepartmentId] = useState("");
  const [creating, setCreating] = useState(false);
  const departments = useDepartments();
  const roles = useRoles();
  const filter = employeeFilter(status, departmentId);
  const list = useInfiniteQuery({
    queryKey: ["employees", query, filter],
    queryFn: ({ signal, pageParam }) => identity.listEmployees({ query, filter, pageSize: 50, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    placeholderData: (previous) => previous,
  });
  const rows = list.data?.pages.flatMap((p) => p.employees) ?? [];
  const departmentName = new Map((departments.data?.departments ?? []).map((d) => [d.id, d.name]));
  const roleName = new Map((roles.data?.roles ?? []).map((r) => [r.id, r.name]));
  return (
    <>
      <Typography.Title level={2}>{t("menu.employees")}</Typography.Title>
      <Space wrap style={{ marginBottom: 16 }}>
        <Input.Search
          id="employee-search"
          aria-label={t("admin.employees.search")}
          placeholder={t("admin.employees.search")}
          allowClear
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          style={{ width: 280 }}
        />
        <Select<StatusFilter>
          id="employee-status"
          aria-label={t("admin.employees.status")}
          value={status}
          onChange={setStatus}
          style={{ width: 160 }}
          options={[
            { value: "active", label: t("admin.status.active") },
            { value: "deactivated", label: t("admin.status.deactivated") },
            { value: "", label: t("admin.status.any") },
          ]}
        />
        <Select
          id="employee-department"
          aria-label={t("admin.employee.department")}
          value={departmentId}
          onChange={setDepartmentId}
          style={{ minWidth: 220 }}
          showSearch
          optionFilterProp="label"
          options={[{ value: "", label: t("admin.employees.anyDepartment") }, ...departmentOptions(departments.data?.departments ?? [])]}
        />
        {allows(session(), "identity.employee.create") && (
          <Button type="primary" onClick={() => setCreating(true)}>
            {t("admin.employees.new")}
          </Button>
        )}
      </Space>
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table<Employee>
        rowKey="id"
        loading={list.isFetching}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: <Typography.Text type="secondary">{t("admin.employees.empty")}</Typography.Text> }}
        columns={[
          { title: t("admin.employee.displayName"), key: "name", render: (_, e) => <Link to={`/admin/employees/${e.id}`}>{e.displayName}</Link> },
          { title: t("admin.employee.login"), dataIndex: "login" },
          { title: t("admin.employee.department"), key: "department", render: (_, e) => departmentName.get(e.departmentId) ?? e.departmentId },
          { title: t("admin.employee.manager"), key: "manager", render: (_, e) => <EmployeeName id={e.managerId} /> },
          { title: t("admin.employee.roles"), key: "roles", render: (_, e) => e.roleIds.map((r) => <Tag key={r}>{roleName.get(r) ?? r}</Tag>) },
          { title: t("admin.employees.status"), key: "status", render: (_, e) => <StatusTag status={e.status} /> },
        ]}
      />
      {list.hasNextPage && (
        <Button style={{ marginTop: 16 }} onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
          {t("common.more")}
        </Button>
      )}
      <NewEmployee open={creating} onClose={() => setCreating(false)} />
    </>
  );
}
