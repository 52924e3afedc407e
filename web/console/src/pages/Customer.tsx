// One customer's page: its details (edited in a drawer), what may be done with it (transfer,
// release, delete), and tabs for its contacts, its follow-ups and its history. A customer the
// caller may not see (outside their scope, deleted) shows the service's refusal.

import { Button, Space, Spin, Tabs, Tag, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useParams, useSearchParams } from "react-router";
import { customers } from "../api/client";
import { problemFromError } from "../api/problem";
import { allows, session } from "../api/session";
import { ErrorNotice } from "../ErrorNotice";
import { useI18n } from "../i18n";
import { ContactsTab } from "./customer/ContactsTab";
import { CustomerActions } from "./customer/CustomerActions";
import { CustomerDetails } from "./customer/CustomerDetails";
import { FollowUpsTab } from "./customer/FollowUpsTab";
import { HistoryTab } from "./customer/HistoryTab";
import { statusKey } from "./customer/labels";

const TABS = ["followUps", "contacts", "history"] as const;
type TabKey = (typeof TABS)[number];

export default function Customer() {
  return <CustomerScreen />;
}

function CustomerScreen() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const { customerId = "" } = useParams();
  const [search, setSearch] = useSearchParams();
  const asked = search.get("tab");
  const tab: TabKey = TABS.includes(asked as TabKey) ? (asked as TabKey) : "followUps";
  const me = session();
  const got = useQuery({
    queryKey: ["customer", customerId],
    queryFn: ({ signal }) => customers.getCustomer({ id: customerId }, { signal }),
    retry: false,
  });
  const customer = got.data?.customer;
  if (got.error) {
    return (
      <>
        <ErrorNotice problem={problemFromError(got.error)} />
        <Button style={{ marginTop: 16 }} onClick={() => navigate("/customers")}>
          {t("common.back")}
        </Button>
      </>
    );
  }
  if (!customer) return <Spin aria-label={t("common.loading")} />;
  const tabs = [
    allows(me, "customers.follow_up.read") && {
      key: "followUps",
      label: t("customers.tab.followUps"),
      children: <FollowUpsTab customerId={customer.id} />,
    },
    allows(me, "customers.contact.read") && {
      key: "contacts",
      label: t("customers.tab.contacts"),
      children: <ContactsTab customerId={customer.id} />,
    },
    { key: "history", label: t("customers.tab.history"), children: <HistoryTab customerId={customer.id} /> },
  ].filter((x) => !!x);
  return (
    <>
      <Space align="center" wrap style={{ width: "100%", justifyContent: "space-between", marginBottom: 16 }}>
        <Space align="center" wrap>
          <Typography.Title level={2} style={{ margin: 0 }} id="customer-name">
            {customer.name}
          </Typography.Title>
          <Tag color="blue">{t(statusKey(customer.status))}</Tag>
          {!customer.ownerId && <Tag color="orange">{t("customers.pool")}</Tag>}
        </Space>
        <CustomerActions customer={customer} />
      </Space>
      <CustomerDetails customer={customer} />
      <Tabs
        style={{ marginTop: 24 }}
        activeKey={tab}
        onChange={(key) => setSearch({ tab: key }, { replace: true })}
        items={tabs}
      />
    </>
  );
}
