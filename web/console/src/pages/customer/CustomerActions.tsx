// What may be done with a customer, by permission: release it to the public pool or transfer it
// to a colleague (each with a reason), or delete it (after a confirmation). A customer that
// leaves the caller's reach afterwards sends them back to the list.

import { useState } from "react";
import { Button, Form, Input, Modal, Popconfirm, Space, message as antMessage } from "antd";
import type { MessageInstance } from "antd/es/message/interface";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { customers } from "../../api/client";
import { useDirectory } from "../../api/directory";
import { problemFromError } from "../../api/problem";
import { allows, session } from "../../api/session";
import { EmployeePicker } from "../../components/EmployeePicker";
import { ErrorNotice } from "../../ErrorNotice";
import type { Customer } from "../../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../../i18n";
import { showViolations } from "./violations";

type Dialog = "release" | "transfer" | null;

interface ReasonValues {
  toOwnerId?: string;
  note?: string;
}

export function CustomerActions({ customer }: { customer: Customer }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<Dialog>(null);
  const [message, messages] = antMessage.useMessage();
  const me = session();
  const remove = useMutation({
    mutationFn: () => customers.deleteCustomer({ id: customer.id, etag: customer.etag }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["customers"] });
      navigate("/customers", { state: { notice: t("customers.action.deleted", { name: customer.name }) } });
    },
  });
  const owned = customer.ownerId !== "";
  return (
    <>
      {messages}
      <Space wrap>
        {owned && allows(me, "customers.customer.transfer") && (
          <Button id="customer-transfer" onClick={() => setDialog("transfer")}>
            {t("customers.action.transfer")}
          </Button>
        )}
        {owned && allows(me, "customers.customer.release") && (
          <Button id="customer-release" onClick={() => setDialog("release")}>
            {t("customers.action.release")}
          </Button>
        )}
        {allows(me, "customers.customer.delete") && (
          <Popconfirm
            title={t("customers.action.deleteConfirm", { name: customer.name })}
            okText={t("common.delete")}
            cancelText={t("common.cancel")}
            okButtonProps={{ danger: true }}
            onConfirm={() => remove.mutate()}
          >
            <Button id="customer-delete" danger loading={remove.isPending}>
              {t("common.delete")}
            </Button>
          </Popconfirm>
        )}
      </Space>
      <ErrorNotice problem={remove.error ? problemFromError(remove.error) : null} />
      {dialog && <ReasonDialog customer={customer} kind={dialog} message={message} onClose={() => setDialog(null)} />}
    </>
  );
}

function ReasonDialog({
  customer,
  kind,
  message,
  onClose,
}: {
  customer: Customer;
  kind: "release" | "transfer";
  message: MessageInstance;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const directory = useDirectory();
  const [form] = Form.useForm<ReasonValues>();
  const [requestId] = useState(() => crypto.randomUUID());
  const act = useMutation({
    mutationFn: async (values: ReasonValues) => {
      const note = (values.note ?? "").trim();
      return kind === "transfer"
        ? customers.transferCustomer({ id: customer.id, toOwnerId: values.toOwnerId ?? "", note, requestId })
        : customers.releaseCustomer({ id: customer.id, note, requestId });
    },
    onSuccess: async (_, values) => {
      const to = values.toOwnerId ? (directory.get(values.toOwnerId)?.displayName ?? values.toOwnerId) : "";
      const done = kind === "transfer" ? t("customers.action.transferred", { name: to }) : t("customers.action.released");
      void message.success(done);
      void queryClient.invalidateQueries({ queryKey: ["customers"] });
      void queryClient.invalidateQueries({ queryKey: ["ownerChanges", customer.id] });
      onClose();
      // Still within reach (a manager, a pooled customer)? Stay on its page; else back to the list.
      try {
        const again = await customers.getCustomer({ id: customer.id });
        queryClient.setQueryData(["customer", customer.id], again);
      } catch {
        queryClient.removeQueries({ queryKey: ["customer", customer.id] });
        navigate("/customers", { state: { notice: done } });
      }
    },
    onError: (error) => {
      showViolations(form, error);
    },
  });
  return (
    <Modal
      open
      title={kind === "transfer" ? t("customers.action.transferTitle", { name: customer.name }) : t("customers.action.releaseTitle", { name: customer.name })}
      okText={kind === "transfer" ? t("customers.action.transfer") : t("customers.action.release")}
      cancelText={t("common.cancel")}
      confirmLoading={act.isPending}
      onOk={() => form.submit()}
      onCancel={onClose}
    >
      <ErrorNotice problem={act.error ? problemFromError(act.error) : null} />
      <Form<ReasonValues> form={form} name={kind} layout="vertical" onFinish={(v) => act.mutate(v)}>
        {kind === "transfer" && (
          <Form.Item name="toOwnerId" label={t("customers.action.to")} rules={[{ required: true, message: t("customers.required") }]}>
            <EmployeePicker id={`${kind}_toOwnerId`} ariaLabel={t("customers.action.to")} exclude={[customer.ownerId]} />
          </Form.Item>
        )}
        <Form.Item name="note" label={t("customers.action.reason")} rules={[{ required: true, whitespace: true, message: t("customers.required") }]}>
          <Input.TextArea rows={3} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
