import { useDeferredValue, useState } from "react";
import { Input, Table } from "antd";
import { useQuery } from "@tanstack/react-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { customers } from "../api/client";
import { problemFromError } from "../api/problem";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";
import { formatTime } from "../i18n/locale";

/** Customers, searched as you type over any part of the name, a contact or a phone. */
export default function Customers() {
  const { t, language } = useI18n();
  const [typed, setTyped] = useState("");
  const query = useDeferredValue(typed.trim());
  const list = useQuery({
    queryKey: ["customers", query],
    queryFn: ({ signal }) => customers.listCustomers({ query, pageSize: 50 }, { signal }),
    placeholderData: (previous) => previous,
  });
  return (
    <>
      <Input.Search
        id="customer-search"
        placeholder={t("customers.search")}
        aria-label={t("customers.search")}
        allowClear
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        style={{ marginBottom: 16 }}
      />
      <ErrorNotice problem={list.error ? problemFromError(list.error) : null} />
      <Table
        rowKey="id"
        loading={list.isFetching}
        dataSource={list.data?.customers ?? []}
        pagination={false}
        locale={{ emptyText: t("customers.empty") }}
        columns={[
          { title: t("customers.name"), dataIndex: "name" },
          { title: t("customers.phone"), dataIndex: "phone" },
          { title: t("customers.owner"), dataIndex: "ownerId" },
          {
            title: t("customers.lastFollowUp"),
            key: "lastFollowUp",
            render: (_, c) => (c.lastFollowUpTime ? formatTime(language, timestampDate(c.lastFollowUpTime)) : ""),
          },
        ]}
      />
    </>
  );
}
