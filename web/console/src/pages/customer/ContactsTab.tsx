// A customer's contacts, primary first: added, edited (only the changed fields, under the
// contact's etag) and deleted, each refusal shown.

import { useState } from "react";
import { Button, Form, Input, Modal, Popconfirm, Space, Switch, Table, Tag } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { customers } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { allows, session } from "../../api/session";
import { ErrorNotice } from "../../ErrorNotice";
import type { Contact } from "../../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../../i18n";
import { contactUpdateRequest, contactValuesOf, newContact, type ContactValues } from "./form";
import { showViolations } from "./violations";

export function ContactsTab({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Contact | "new" | null>(null);
  const list = useQuery({
    queryKey: ["contacts", customerId],
    queryFn: ({ signal }) => customers.listContacts({ customerId }, { signal }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => customers.deleteContact({ id }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["contacts", customerId] }),
  });
  const canWrite = allows(session(), "customers.contact.write");
  return (
    <>
      {canWrite && (
        <Button id="contact-add" style={{ marginBottom: 16 }} onClick={() => setEditing("new")}>
          {t("customers.contact.add")}
        </Button>
      )}
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <ErrorNotice problem={remove.error ? problemFromError(remove.error) : null} />
      <Table<Contact>
        rowKey="id"
        size="small"
        loading={list.isFetching}
        dataSource={list.data?.contacts ?? []}
        pagination={false}
        locale={{ emptyText: t("customers.contact.empty") }}
        columns={[
          {
            title: t("customers.contactName"),
            key: "name",
            render: (_, c) => (
              <Space>
                {c.name}
                {c.isPrimary && <Tag color="blue">{t("customers.contact.primary")}</Tag>}
              </Space>
            ),
          },
          { title: t("customers.contactTitle"), dataIndex: "title" },
          { title: t("customers.contact.department"), dataIndex: "department" },
          { title: t("customers.mobile"), dataIndex: "mobile" },
          { title: t("customers.phone"), dataIndex: "phone" },
          { title: t("customers.email"), dataIndex: "email" },
          ...(canWrite
            ? [
                {
                  title: t("common.actions"),
                  key: "actions",
                  render: (_: unknown, c: Contact) => (
                    <Space>
                      <Button size="small" onClick={() => setEditing(c)} aria-label={`${t("common.edit")} ${c.name}`}>
                        {t("common.edit")}
                      </Button>
                      <Popconfirm
                        title={t("common.confirm")}
                        okText={t("common.delete")}
                        cancelText={t("common.cancel")}
                        okButtonProps={{ danger: true }}
                        onConfirm={() => remove.mutate(c.id)}
                      >
                        <Button size="small" danger aria-label={`${t("common.delete")} ${c.name}`}>
                          {t("common.delete")}
                        </Button>
                      </Popconfirm>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      {editing && (
        <ContactModal customerId={customerId} contact={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      )}
    </>
  );
}

function ContactModal({ customerId, contact, onClose }: { customerId: string; contact: Contact | null; onClose: () => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<ContactValues>();
  const [requestId] = useState(() => crypto.randomUUID());
  const save = useMutation({
    mutationFn: async (values: ContactValues) => {
      if (!contact) return customers.createContact({ contact: newContact(customerId, values), requestId });
      const request = contactUpdateRequest(contact, values);
      return request ? customers.updateContact(request) : null;
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["contacts", customerId] });
      void queryClient.invalidateQueries({ queryKey: ["customer", customerId] });
      onClose();
    },
    onError: (error) => {
      showViolations(form, error);
    },
  });
  return (
    <Modal
      open
      title={contact ? t("customers.contact.edit") : t("customers.contact.add")}
      okText={t("common.save")}
      cancelText={t("common.cancel")}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      onCancel={onClose}
    >
      <ErrorNotice problem={save.error ? problemFromError(save.error) : null} />
      <Form<ContactValues>
        form={form}
        name="contact"
        layout="vertical"
        initialValues={contact ? contactValuesOf(contact) : { isPrimary: false }}
        onFinish={(v) => save.mutate(v)}
      >
        <Form.Item name="name" label={t("customers.contactName")} rules={[{ required: true, whitespace: true, message: t("customers.required") }]}>
          <Input />
        </Form.Item>
        <Form.Item name="title" label={t("customers.contactTitle")}>
          <Input />
        </Form.Item>
        <Form.Item name="department" label={t("customers.contact.department")}>
          <Input />
        </Form.Item>
        <Form.Item name="mobile" label={t("customers.mobile")}>
          <Input inputMode="tel" />
        </Form.Item>
        <Form.Item name="phone" label={t("customers.phone")}>
          <Input inputMode="tel" />
        </Form.Item>
        <Form.Item name="email" label={t("customers.email")}>
          <Input type="email" />
        </Form.Item>
        <Form.Item name="birthday" label={t("customers.birthday")} extra={t("customers.contact.birthdayHint")}>
          <Input placeholder="1990-05-20" />
        </Form.Item>
        <Form.Item name="isPrimary" label={t("customers.contact.primary")} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Form.Item name="remark" label={t("customers.remark")}>
          <Input.TextArea rows={2} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
