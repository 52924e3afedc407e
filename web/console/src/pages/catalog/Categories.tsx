// The category tree beside the product list: choosing a category lists it and everything below
// it; those who may change the catalog create a category (under the chosen one, or at the top),
// rename it or move it under another parent (never under itself or below: not offered, and the
// service refuses it too).

import { useState } from "react";
import { Button, Card, Form, Input, Modal, Select, Space, Tree } from "antd";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { warehouse } from "../../api/client";
import { problemFromError, type Problem } from "../../api/problem";
import { allows, session } from "../../api/session";
import { ErrorNotice } from "../../ErrorNotice";
import type { Category } from "../../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../../i18n";
import { useCategories } from "./data";
import { categoryMask, categoryOptions, categorySubtree, categoryTree, duplicateFieldOf, formFieldOf } from "./logic";

interface CategoryValues {
  name: string;
  parentId?: string;
}

/** Creating (no `category`, under `parentId`) or editing one. */
function CategoryModal({
  category,
  parentId,
  all,
  onClose,
}: {
  category: Category | null;
  parentId: string;
  all: Category[];
  onClose: (saved?: Category) => void;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<CategoryValues>();
  const [problem, setProblem] = useState<Problem | null>(null);
  const queryClient = useQueryClient();
  const excluded = category ? categorySubtree(all, category.id) : new Set<string>();
  const save = useMutation({
    mutationFn: async (v: CategoryValues) => {
      const next = { name: v.name.trim(), parentId: v.parentId ?? "" };
      if (!category) return (await warehouse.createCategory({ ...next, requestId: crypto.randomUUID() })).category;
      const paths = categoryMask(category, next);
      if (paths.length === 0) return category;
      return (await warehouse.updateCategory({ category: { id: category.id, ...next }, updateMask: { paths } })).category;
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: ["productCategories"] });
      onClose(saved);
    },
    onError: (e) => {
      const p = problemFromError(e);
      setProblem(p);
      const fields = p.violations
        .map((v) => ({ name: formFieldOf(v.field, ["name", "parentId"]), errors: [v.description] }))
        .filter((f) => f.name !== null);
      const duplicate = duplicateFieldOf(e);
      if (duplicate) fields.push({ name: [duplicate], errors: [p.message] });
      form.setFields(fields as Parameters<typeof form.setFields>[0]);
    },
  });
  return (
    <Modal
      open
      title={category ? t("catalog.categories.edit") : t("catalog.categories.new")}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      onCancel={() => onClose()}
      confirmLoading={save.isPending}
      onOk={() => void form.validateFields().then((v) => save.mutate(v))}
    >
      <Form<CategoryValues>
        form={form}
        name="category"
        layout="vertical"
        initialValues={category ? { name: category.name, parentId: category.parentId || undefined } : { parentId: parentId || undefined }}
      >
        <Form.Item name="name" label={t("catalog.categories.name")} rules={[{ required: true, whitespace: true, message: t("catalog.required") }]}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="parentId" label={t("catalog.categories.parent")} extra={t("catalog.categories.parentHint")}>
          <Select allowClear showSearch optionFilterProp="label" options={categoryOptions(all, excluded)} />
        </Form.Item>
      </Form>
      <ErrorNotice problem={problem} />
    </Modal>
  );
}

/** The tree; `selected` is the chosen category's id (empty: every category). */
export function CategoryPanel({ selected, onSelect }: { selected: string; onSelect: (id: string) => void }) {
  const { t } = useI18n();
  const categories = useCategories();
  const [editing, setEditing] = useState<Category | null | "new">(null);
  const all = categories.data?.categories ?? [];
  const current = all.find((c) => c.id === selected);
  const canWrite = allows(session(), "warehouse.catalog.write");
  const ALL = "__all__";
  return (
    <Card
      size="small"
      title={t("catalog.categories.title")}
      style={{ minWidth: 240 }}
      extra={
        canWrite && (
          <Space size={4}>
            <Button size="small" onClick={() => setEditing("new")}>
              {t("catalog.categories.new")}
            </Button>
            {current && (
              <Button size="small" onClick={() => setEditing(current)} aria-label={`${t("catalog.categories.edit")} ${current.name}`}>
                {t("common.edit")}
              </Button>
            )}
          </Space>
        )
      }
    >
      <ErrorNotice problem={categories.error ? problemFromError(categories.error) : null} />
      <Tree
        aria-label={t("catalog.categories.title")}
        blockNode
        defaultExpandAll
        key={all.length}
        selectedKeys={[selected || ALL]}
        onSelect={(keys) => onSelect(keys.length === 0 || keys[0] === ALL ? "" : String(keys[0]))}
        treeData={[{ key: ALL, title: t("catalog.categories.all") }, ...categoryTree(all)]}
      />
      {editing && (
        <CategoryModal
          category={editing === "new" ? null : editing}
          parentId={editing === "new" ? selected : ""}
          all={all}
          onClose={(saved) => {
            setEditing(null);
            if (saved) onSelect(saved.id);
          }}
        />
      )}
    </Card>
  );
}
