// Departments (administration): the department tree with each one's manager and employee
// count; create a department (under a parent or at the top), rename it, move it under another
// parent (never under itself or below), change its manager, and delete it (the service refuses
// a department that still has employees or sub-departments, and its message is shown).

import { useState } from "react";
import { Button, Form, Input, Modal, Popconfirm, Select, Space, Table, Typography } from "antd";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { identity } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { EmployeePicker } from "../../components/EmployeePicker";
import { ErrorNotice } from "../../ErrorNotice";
import type { Department } from "../../gen/crm/identity/v1/identity_pb.js";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/locale";
import { useDepartments } from "./data";
import { departmentMask, departmentOptions, departmentTree, formField, subtreeIds, type DepartmentNode } from "./logic";

interface DepartmentValues {
  name: string;
  parentId?: string;
  managerId?: string;
}

/** Creating (no `department`) or editing one. */
function DepartmentModal({ department, all, onClose }: { department: Department | null; all: Department[]; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<DepartmentValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const queryClient = useQueryClient();
  const excluded = department ? subtreeIds(all, department.id) : new Set<string>();
  const save = useMutation({
    mutationFn: async (v: DepartmentValues) => {
      const next = { name: v.name.trim(), parentId: v.parentId ?? "", managerId: v.managerId ?? "" };
      if (!department) return identity.createDepartment({ department: next });
      const paths = departmentMask(department, next);
      if (paths.length === 0) return null;
      return identity.updateDepartment({ department: { id: department.id, etag: department.etag, ...next }, updateMask: { paths } });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["departments"] });
      onClose();
    },
    onError: (e) => {
      const p = problemFromError(e);
      setProblem(p);
      form.setFields(p.violations.map((v) => ({ name: formField(v.field) as keyof DepartmentValues, errors: [v.description] })));
    },
  });
  return (
    <Modal
      open
      title={department ? t("admin.departments.edit") : t("admin.departments.new")}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      onCancel={onClose}
      confirmLoading={save.isPending}
      onOk={() => void form.validateFields().then((v) => save.mutate(v))}
    >
      <Form<DepartmentValues>
        form={form}
        name="department"
        layout="vertical"
        initialValues={department ? { name: department.name, parentId: department.parentId || undefined, managerId: department.managerId || undefined } : {}}
      >
        <Form.Item name="name" label={t("admin.departments.name")} rules={[{ required: true, message: t("admin.required") }]}>
          <Input />
        </Form.Item>
        <Form.Item name="parentId" label={t("admin.departments.parent")} extra={t("admin.departments.parentHint")}>
          <Select allowClear showSearch optionFilterProp="label" options={departmentOptions(all).filter((o) => !excluded.has(o.value))} />
        </Form.Item>
        <Form.Item name="managerId" label={t("admin.departments.manager")}>
          <EmployeePicker ariaLabel={t("admin.departments.manager")} />
        </Form.Item>
      </Form>
      <ErrorNotice problem={problem} />
    </Modal>
  );
}

export default function Departments() {
  const { t, language } = useI18n();
  const departments = useDepartments();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Department | null | "new">(null);
  const remove = useMutation({
    mutationFn: (id: string) => identity.deleteDepartment({ id }),
    // Refused or not, the counts may have moved since the list was read.
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ["departments"] }),
  });
  const all = departments.data?.departments ?? [];
  const tree = departmentTree(all);
  return (
    <>
      <Typography.Title level={2}>{t("menu.departments")}</Typography.Title>
      <Space style={{ marginBottom: 16 }}>
        <Button type="primary" onClick={() => setEditing("new")}>
          {t("admin.departments.new")}
        </Button>
      </Space>
      <ErrorNotice problem={departments.error ? problemFromError(departments.error) : remove.error ? problemFromError(remove.error) : null} />
      <Table<DepartmentNode>
        rowKey="key"
        loading={departments.isFetching}
        dataSource={tree}
        pagination={false}
        expandable={{ defaultExpandAllRows: true }}
        key={tree.length > 0 ? "loaded" : "empty"}
        columns={[
          { title: t("admin.departments.name"), key: "name", render: (_, n) => n.department.name },
          { title: t("admin.departments.manager"), key: "manager", render: (_, n) => <EmployeeName id={n.department.managerId} /> },
          { title: t("admin.departments.employees"), key: "count", align: "right", render: (_, n) => formatNumber(language, Number(n.department.employeeCount)) },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_, n) => (
              <Space>
                <Button size="small" onClick={() => setEditing(n.department)} aria-label={`${t("common.edit")} ${n.department.name}`}>
                  {t("common.edit")}
                </Button>
                <Popconfirm title={t("common.confirm")} onConfirm={() => remove.mutate(n.department.id)} okText={t("common.delete")} cancelText={t("common.cancel")}>
                  <Button size="small" aria-label={`${t("common.delete")} ${n.department.name}`}>
                    {t("common.delete")}
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      {editing && <DepartmentModal department={editing === "new" ? null : editing} all={all} onClose={() => setEditing(null)} />}
    </>
  );
}
