// Roles (administration): the built-in roles (fixed) and the custom ones; a custom role is
// created or edited with its permission patterns (from the services' catalogue, or a pattern
// with `*` segments) and a data scope per service (own, department, department tree, all), and
// deleted when no one holds it.

import { useState } from "react";
import { Button, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { identity } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { ErrorNotice } from "../../ErrorNotice";
import type { Role } from "../../gen/crm/identity/v1/identity_pb.js";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/locale";
import { useRoles } from "./data";
import { SCOPES, formField, roleFromValues, roleMask, roleValues, scopeKey, servicesOf, type RoleFormValues } from "./logic";

function RoleModal({ role, onClose }: { role: Role | null; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<RoleFormValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const queryClient = useQueryClient();
  const catalogue = useQuery({
    queryKey: ["permissions"],
    queryFn: ({ signal }) => identity.listPermissions({}, { signal }),
    staleTime: 5 * 60_000,
  });
  const permissions = catalogue.data?.permissions ?? [];
  const services = servicesOf(permissions);
  const save = useMutation({
    mutationFn: async (v: RoleFormValues) => {
      const next = roleFromValues(v);
      if (!role) return identity.createRole({ role: next });
      const paths = roleMask(role, next);
      if (paths.length === 0) return null;
      return identity.updateRole({ role: { id: role.id, etag: role.etag, ...next }, updateMask: { paths } });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["roles"] });
      onClose();
    },
    onError: (e) => {
      const p = problemFromError(e);
      setProblem(p);
      const fields = ["name", "description", "permissions"] as const;
      form.setFields(
        p.violations.flatMap((v) => {
          const name = fields.find((f) => f === formField(v.field));
          return name ? [{ name, errors: [v.description] }] : [];
        }),
      );
    },
  });
  return (
    <Modal
      open
      width={720}
      title={role ? t("admin.roles.edit") : t("admin.roles.new")}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      onCancel={onClose}
      confirmLoading={save.isPending}
      onOk={() => void form.validateFields().then((v) => save.mutate(v))}
    >
      <Form<RoleFormValues> form={form} name="role" layout="vertical" initialValues={role ? roleValues(role) : { scopes: [] }}>
        <Form.Item name="name" label={t("admin.roles.name")} extra={t("admin.roles.nameHint")} rules={[{ required: true, message: t("admin.required") }, { pattern: /^[a-z0-9_]+$/, message: t("admin.roles.nameHint") }]}>
          <Input disabled={!!role} />
        </Form.Item>
        <Form.Item name="description" label={t("admin.roles.description")}>
          <Input.TextArea rows={2} />
        </Form.Item>
        <Form.Item name="permissions" label={t("admin.roles.permissions")} extra={t("admin.roles.permissionsHint")}>
          <Select mode="tags" loading={catalogue.isLoading} options={permissions.map((p) => ({ value: p, label: p }))} tokenSeparators={[",", " "]} />
        </Form.Item>
        <Typography.Text strong>{t("admin.roles.scopes")}</Typography.Text>
        <Form.List name="scopes">
          {(fields, { add, remove }) => (
            <>
              {fields.map((field, i) => (
                <Space key={field.key} align="baseline" style={{ display: "flex", marginTop: 8 }}>
                  <Form.Item name={[field.name, "service"]} label={t("admin.roles.service")} rules={[{ required: true, message: t("admin.required") }]}>
                    <Select style={{ width: 200 }} showSearch options={[...services, "*"].map((s) => ({ value: s, label: s === "*" ? t("admin.roles.everyService") : s }))} />
                  </Form.Item>
                  <Form.Item name={[field.name, "scope"]} label={t("admin.roles.scope")} rules={[{ required: true, message: t("admin.required") }]}>
                    <Select style={{ width: 220 }} options={SCOPES.map((s) => ({ value: s, label: t(scopeKey(s)) }))} />
                  </Form.Item>
                  <Button onClick={() => remove(field.name)} aria-label={`${t("admin.roles.removeScope")} ${i + 1}`}>
                    {t("admin.roles.removeScope")}
                  </Button>
                </Space>
              ))}
              <Button type="dashed" onClick={() => add({})} style={{ marginTop: 8 }}>
                {t("admin.roles.addScope")}
              </Button>
            </>
          )}
        </Form.List>
      </Form>
      <div style={{ marginTop: 16 }}>
        <ErrorNotice problem={problem} />
      </div>
    </Modal>
  );
}

export default function Roles() {
  const { t, language } = useI18n();
  const roles = useRoles();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Role | null | "new">(null);
  const remove = useMutation({
    mutationFn: (id: string) => identity.deleteRole({ id }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["roles"] }),
  });
  return (
    <>
      <Typography.Title level={2}>{t("menu.roles")}</Typography.Title>
      <Space style={{ marginBottom: 16 }}>
        <Button type="primary" onClick={() => setEditing("new")}>
          {t("admin.roles.new")}
        </Button>
      </Space>
      <ErrorNotice problem={roles.error ? problemFromError(roles.error) : remove.error ? problemFromError(remove.error) : null} />
      <Table<Role>
        rowKey="id"
        loading={roles.isFetching}
        dataSource={roles.data?.roles ?? []}
        pagination={false}
        columns={[
          {
            title: t("admin.roles.name"),
            key: "name",
            render: (_, r) => (
              <Space>
                {r.name}
                {r.builtIn ? <Tag>{t("admin.roles.builtIn")}</Tag> : <Tag color="blue">{t("admin.roles.custom")}</Tag>}
              </Space>
            ),
          },
          { title: t("admin.roles.description"), dataIndex: "description", width: 320 },
          {
            title: t("admin.roles.permissions"),
            key: "permissions",
            render: (_, r) => (
              <Typography.Text ellipsis={{ tooltip: r.permissions.join(", ") }} style={{ maxWidth: 280 }}>
                {r.permissions.join(", ")}
              </Typography.Text>
            ),
          },
          {
            title: t("admin.roles.scopes"),
            key: "scopes",
            render: (_, r) =>
              r.scopes.map((s) => (
                <Tag key={s.service}>
                  {s.service === "*" ? t("admin.roles.everyService") : s.service}: {t(scopeKey(s.scope))}
                </Tag>
              )),
          },
          { title: t("admin.roles.holders"), key: "count", align: "right", width: 110, render: (_, r) => formatNumber(language, Number(r.employeeCount)) },
          {
            title: t("common.actions"),
            key: "actions",
            render: (_, r) =>
              r.builtIn ? null : (
                <Space>
                  <Button size="small" onClick={() => setEditing(r)} aria-label={`${t("common.edit")} ${r.name}`}>
                    {t("common.edit")}
                  </Button>
                  <Popconfirm title={t("common.confirm")} onConfirm={() => remove.mutate(r.id)} okText={t("common.delete")} cancelText={t("common.cancel")}>
                    <Button size="small" aria-label={`${t("common.delete")} ${r.name}`}>
                      {t("common.delete")}
                    </Button>
                  </Popconfirm>
                </Space>
              ),
          },
        ]}
      />
      {editing && <RoleModal role={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </>
  );
}
