// "My day", a salesperson's home screen: today's, overdue and tomorrow's follow-ups, customers
// not contacted for N days, this week's birthdays (ListReminders, with the browser's UTC offset
// so "today" is the user's), leads whose follow-up is due (ListLeads) and stuck deals
// (ListOpportunities stuck_only). A manager switches between their own and their team's.
// Sections the permissions do not allow are left out; a refused call shows in its section.

import { useState } from "react";
import { Col, InputNumber, Radio, Row, Space, Typography } from "antd";
import { allows, session } from "../api/session";
import { ReminderKind } from "../gen/crm/customers/v1/customers_pb";
import { useI18n } from "../i18n";
import { utcOffsetMinutes } from "./day/logic";
import { BirthdaySection, FollowUpSection, NotContactedSection, type Scope } from "./day/Reminders";
import { LeadsSection, StuckSection } from "./day/Sales";

const DEFAULT_DAYS = 30;

export default function Day() {
  const { t } = useI18n();
  const s = session();
  const employeeId = s?.employee?.id ?? "";
  const mayTeam = allows(s, "customers.reminder.team");
  const [team, setTeam] = useState(false);
  const [days, setDays] = useState(DEFAULT_DAYS);
  const scope: Scope = { team: mayTeam && team, utcOffsetMinutes: utcOffsetMinutes() };
  const reminders = allows(s, "customers.customer.read");
  const leads = allows(s, "sales.lead.read");
  const stuck = allows(s, "sales.opportunity.read");

  const daysPicker = (
    <Space size={4}>
      <label htmlFor="day-days">{t("day.days")}</label>
      <InputNumber
        id="day-days"
        size="small"
        min={1}
        max={3650}
        value={days}
        onChange={(v) => setDays(typeof v === "number" && v >= 1 ? Math.floor(v) : DEFAULT_DAYS)}
        style={{ width: 80 }}
      />
    </Space>
  );

  const sections = [
    reminders && <FollowUpSection key="today" id="day-today" kind={ReminderKind.TODAY} title={t("day.today")} scope={scope} />,
    reminders && <FollowUpSection key="overdue" id="day-overdue" kind={ReminderKind.OVERDUE} title={t("day.overdue")} scope={scope} />,
    reminders && (
      <FollowUpSection key="tomorrow" id="day-tomorrow" kind={ReminderKind.TOMORROW} title={t("day.tomorrow")} scope={scope} />
    ),
    leads && <LeadsSection key="leads" scope={scope} employeeId={employeeId} />,
    reminders && <NotContactedSection key="not-contacted" scope={scope} days={days} extra={daysPicker} />,
    reminders && <BirthdaySection key="birthdays" scope={scope} />,
    stuck && <StuckSection key="stuck" scope={scope} employeeId={employeeId} />,
  ].filter(Boolean);

  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between", marginBottom: 16 }} wrap>
        <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
          {t("day.title")}
        </Typography.Title>
        {mayTeam && (
          <Radio.Group
            aria-label={t("day.whose")}
            optionType="button"
            buttonStyle="solid"
            value={team ? "team" : "mine"}
            onChange={(e) => setTeam(e.target.value === "team")}
            options={[
              { value: "mine", label: t("day.mine") },
              { value: "team", label: t("day.team") },
            ]}
          />
        )}
      </Space>
      <Row gutter={[16, 16]}>
        {sections.map((section, i) => (
          <Col key={i} xs={24} lg={12} xxl={8}>
            {section}
          </Col>
        ))}
      </Row>
    </>
  );
}
