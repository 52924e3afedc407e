// Warehouses: those in the caller's scope (all of them, or the ones they keep), each with its
// keepers by name, whether it allows negative stock and whether it is open. Those who may manage
// warehouses create one, change it (only what changed, against its etag) and close or re-open it.

import { useState } from "react";
import { Button, Form, Input, Modal, Popconfirm, Space, Switch, Table, Tag, Typography } from "antd";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { warehouse as warehouses } from "../api/client";
import { problemFromError, type Problem } from "../api/problem";
import { allows, session } from "../api/session";
import { EmployeeName } from "../components/EmployeeName";
import { ErrorNotice } from "../ErrorNotice";
import { WarehouseStatus, type Warehouse } from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { useWarehouses } from "./catalog/data";
import { KeeperPicker } from "./catalog/KeeperPicker";
import { duplicateFieldOf, formFieldOf, isStale, warehouseMask, warehouseOf, warehouseValues, type WarehouseValues } from "./catalog/logic";

const FIELDS = ["code", "name", "address", "keeperIds", "allowNegativeStock", "remark"];

/** Creating (no `warehouse`) or editing one. */
function WarehouseModal({ warehouse, onClose }: { warehouse: Warehouse | null; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<WarehouseValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [stale, setStale] = useState(false);
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: async (v: WarehouseValues) => {
      if (!warehouse) return warehouses.createWarehouse({ warehouse: { ...warehouseOf(v), status: WarehouseStatus.ACTIVE }, requestId: crypto.randomUUID() });
      const paths = warehouseMask(warehouse, v);
      if (paths.length === 0) return null;
      return warehouses.updateWarehouse({ warehouse: { ...warehouseOf(v), id: warehouse.id, etag: warehouse.etag }, updateMask: { paths } });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["warehouses"] });
      onClose();
    },
    onError: (e) => {
      if (isStale(e)) {
        setStale(true);
        setProblem(null);
        void queryClient.invalidateQueries({ queryKey: ["warehouses"] });
        return;
      }
      const p = problemFromError(e);
      setProblem(p);
      const fields = p.violations.map((v) => ({ name: formFieldOf(v.field, FIELDS), errors: [v.description] })).filter((f) => f.name !== null);
      const duplicate = duplicateFieldOf(e);
      if (duplicate) fields.push({ name: [duplicate], errors: [p.message] });
      form.setFields(fields as Parameters<typeof form.setFields>[0]);
    },
  });
  const required = [{ required: true, whitespace: true, message: t("catalog.required") }];
  return (
    <Modal
      open
      title={warehouse ? t("catalog.warehouses.edit") : t("catalog.warehouses.new")}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      onCancel={onClose}
      confirmLoading={save.isPending}
      onOk={() => void form.validateFields().then((v) => save.mutate(v))}
    >
      <Form<WarehouseValues>
        form={form}
        name="warehouse"
        layout="vertical"
        initialValues={warehouse ? warehouseValues(warehouse) : { keeperIds: [], allowNegativeStock: false }}
      >
        <Form.Item name="code" label={t("catalog.warehouses.code")} rules={required}>
          <Input maxLength={32} />
        </Form.Item>
        <Form.Item name="name" label={t("catalog.warehouses.name")} rules={required}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="address" label={t("catalog.warehouses.address")}>
          <Input maxLength={300} />
        </Form.Item>
        <Form.Item name="keeperIds" label={t("catalog.warehouses.keepers")} extra={t("catalog.warehouses.keepersHint")}>
          <KeeperPicker ariaLabel={t("catalog.warehouses.keepers")} />
        </Form.Item>
        <Form.Item name="allowNegativeStock" label={t("catalog.warehouses.allowNegative")} valuePropName="checked" extra={t("catalog.warehouses.allowNegativeHint")}>
          <Switch />
        </Form.Item>
        <Form.Item name="remark" label={t("catalog.warehouses.remark")}>
          <Input.TextArea rows={2} maxLength={1000} />
        </Form.Item>
      </Form>
      {stale && <Typography.Paragraph type="warning" role="alert">{t("catalog.staleWarehouse")}</Typography.Paragraph>}
      <ErrorNotice problem={problem} />
    </Modal>
  );
}

export function WarehouseStatusTag({ status }: { status: WarehouseStatus }) {
  const { t } = useI18n();
  return status === WarehouseStatus.CLOSED ? <Tag color="default">{t("catalog.warehouses.closed")}</Tag> : <Tag color="green">{t("catalog.warehouses.active")}</Tag>;
}

export default function Warehouses() {
  const { t } = useI18n();
  const list = useWarehouses();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Warehouse | null | "new">(null);
  const canWrite = allows(session(), "warehouse.warehouse.write");
  const status = useMutation({
    mutationFn: (w: Warehouse) =>
      warehouses.updateWarehouse({
        warehouse: { id: w.id, etag: w.etag, status: w.status === WarehouseStatus.CLOSED ? WarehouseStatus.ACTIVE : WarehouseStatus.CLOSED },
        updateMask: { paths: ["status"] },
      }),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ["warehouses"] }),
  });
  const rows = list.data ?? [];
  return (
    <>
      <Typography.Title level={2}>{t("menu.warehouses")}</Typography.Title>
      {canWrite && (
        <Space style={{ marginBottom: 16 }}>
          <Button type="primary" onClick={() => setEditing("new")}>
            {t("catalog.warehouses.new")}
          </Button>
        </Space>
      )}
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      {status.error && (isStale(status.error) ? <Typography.Paragraph type="warning" role="alert">{t("catalog.staleWarehouse")}</Typography.Paragraph> : <ErrorNotice problem={problemFromError(status.error)} />)}
      <Table<Warehouse>
        rowKey="id"
        loading={list.isFetching}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: <Typography.Text type="secondary">{t("catalog.warehouses.empty")}</Typography.Text> }}
        columns={[
          { title: t("catalog.warehouses.code"), dataIndex: "code" },
          { title: t("catalog.warehouses.name"), dataIndex: "name" },
          { title: t("catalog.warehouses.address"), dataIndex: "address" },
          {
            title: t("catalog.warehouses.keepers"),
            key: "keepers",
            render: (_, w) =>
              w.keeperIds.map((id) => (
                <Tag key={id}>
                  <EmployeeName id={id} />
                </Tag>
              )),
          },
          { title: t("catalog.warehouses.allowNegative"), key: "negative", render: (_, w) => (w.allowNegativeStock ? t("catalog.yes") : t("catalog.no")) },
          { title: t("catalog.warehouses.status"), key: "status", render: (_, w) => <WarehouseStatusTag status={w.status} /> },
          ...(canWrite
            ? [
                {
                  title: t("common.actions"),
                  key: "actions",
                  render: (_: unknown, w: Warehouse) => {
                    const closed = w.status === WarehouseStatus.CLOSED;
                    return (
                      <Space>
                        <Button size="small" onClick={() => setEditing(w)} aria-label={`${t("common.edit")} ${w.code}`}>
                          {t("common.edit")}
                        </Button>
                        <Popconfirm
                          title={closed ? t("catalog.warehouses.reopenConfirm") : t("catalog.warehouses.closeConfirm")}
                          okText={closed ? t("catalog.warehouses.reopen") : t("catalog.warehouses.close")}
                          cancelText={t("common.cancel")}
                          onConfirm={() => status.mutate(w)}
                        >
                          <Button size="small" aria-label={`${closed ? t("catalog.warehouses.reopen") : t("catalog.warehouses.close")} ${w.code}`}>
                            {closed ? t("catalog.warehouses.reopen") : t("catalog.warehouses.close")}
                          </Button>
                        </Popconfirm>
                      </Space>
                    );
                  },
                },
              ]
            : []),
        ]}
      />
      {editing && <WarehouseModal warehouse={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </>
  );
}
