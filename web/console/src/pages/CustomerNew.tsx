// A new customer, as a salesperson fills it in: while the name, phone, email or tax id is typed
// the service is asked (after a pause) which existing customers it matches, and each is named
// with its owner; saving creates the customer (with its primary contact) under a request id kept
// for retries, puts a refusal on the fields it names, and opens the new customer's page.

import { useEffect, useMemo, useState } from "react";
import { Button, Card, Form, Space, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { customers } from "../api/client";
import { useDirectory } from "../api/directory";
import { problemFromError } from "../api/problem";
import { ErrorNotice } from "../ErrorNotice";
import { CustomerKind } from "../gen/crm/customers/v1/customers_pb.js";
import { useI18n } from "../i18n";
import { CustomerFields } from "./customer/CustomerFields";
import { DuplicateWarning } from "./customer/DuplicateWarning";
import { createRequest, debounce, duplicateProbe, existingCustomerOf, type CustomerValues } from "./customer/form";
import { duplicateMatches } from "./customer/labels";
import { showFieldError, showViolations } from "./customer/violations";

/** The duplicate check's request for what is typed, settled 300 ms after the last keystroke. */
function useSettledProbe(values: Partial<CustomerValues> | undefined) {
  const [probe, setProbe] = useState<ReturnType<typeof duplicateProbe>>(null);
  const settle = useMemo(() => debounce((v: Partial<CustomerValues>) => setProbe(duplicateProbe(v)), 300), []);
  const key = JSON.stringify(duplicateProbe(values ?? {}));
  useEffect(() => {
    settle(values ?? {});
    return () => settle.cancel();
    // The probe's JSON is the dependency: other fields typed do not restart the pause.
  }, [key, settle]);
  return probe;
}

export default function CustomerNew() {
  return <CustomerNewScreen />;
}

function CustomerNewScreen() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const directory = useDirectory();
  const [form] = Form.useForm<CustomerValues>();
  // One id per filled-in form: a retry after a lost answer does not create a second customer.
  const [requestId] = useState(() => crypto.randomUUID());
  const typed = Form.useWatch([], form) as Partial<CustomerValues> | undefined;
  const probe = useSettledProbe(typed);
  const duplicates = useQuery({
    queryKey: ["duplicates", probe],
    queryFn: ({ signal }) => customers.checkDuplicates({ ...probe, maxCloseMatches: 10 }, { signal }),
    enabled: probe !== null,
    placeholderData: (previous) => previous,
  });
  const matches = probe && duplicates.data ? duplicateMatches(duplicates.data.exactMatches, duplicates.data.closeMatches) : [];

  const create = useMutation({
    mutationFn: (values: CustomerValues) => customers.createCustomer(createRequest(values, requestId)),
    onSuccess: async ({ customer }) => {
      await queryClient.invalidateQueries({ queryKey: ["customers"] });
      if (customer) navigate(`/customers/${customer.id}`);
    },
    onError: (error) => {
      const existing = existingCustomerOf(error);
      if (existing) {
        const owner = existing.inPool || !existing.ownerId ? t("customers.pool") : (directory.get(existing.ownerId)?.displayName ?? existing.ownerId);
        showFieldError(form, existing.field, t("customers.exists", { name: existing.customerName, owner }));
        return;
      }
      showViolations(form, error);
    },
  });

  return (
    <>
      <Typography.Title level={2}>{t("customers.new")}</Typography.Title>
      <Card>
        <DuplicateWarning matches={matches} />
        <ErrorNotice problem={duplicates.error ? problemFromError(duplicates.error) : null} />
        <Form<CustomerValues>
          form={form}
          name="customer"
          layout="vertical"
          initialValues={{ kind: CustomerKind.COMPANY }}
          onFinish={(values) => create.mutate(values)}
          style={{ maxWidth: 960 }}
        >
          <CustomerFields withContact />
          <ErrorNotice problem={create.error && !existingCustomerOf(create.error) ? problemFromError(create.error) : null} />
          <Space style={{ marginTop: 16 }}>
            <Button type="primary" htmlType="submit" loading={create.isPending}>
              {t("common.save")}
            </Button>
            <Button onClick={() => navigate("/customers")}>{t("common.cancel")}</Button>
          </Space>
        </Form>
      </Card>
    </>
  );
}
