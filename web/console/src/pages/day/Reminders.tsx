// The sections of "My day" that come from ListReminders: today's, tomorrow's and overdue
// follow-ups, customers not contacted for N days, and this week's birthdays. Each customer's name
// links to its page.

import type { ReactNode } from "react";
import { Space, Typography } from "antd";
import { Link } from "react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { customers } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import type { Reminder } from "../../gen/crm/customers/v1/customers_pb";
import { ReminderKind } from "../../gen/crm/customers/v1/customers_pb";
import { useI18n } from "../../i18n";
import { formatDate, formatTime } from "../../i18n/locale";
import { birthdayThisWeek, sortBirthdays } from "./logic";
import { Section } from "./Section";

const PAGE = 50;

export interface Scope {
  team: boolean;
  utcOffsetMinutes: number;
}

/** One reminder list, page by page. */
function useReminders(kind: ReminderKind, scope: Scope, days = 0) {
  const query = useInfiniteQuery({
    queryKey: ["reminders", kind, scope.team, scope.utcOffsetMinutes, days],
    queryFn: ({ pageParam, signal }) =>
      customers.listReminders(
        { kind, days, team: scope.team, utcOffsetMinutes: scope.utcOffsetMinutes, pageSize: PAGE, pageToken: pageParam },
        { signal },
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const items: Reminder[] = query.data?.pages.flatMap((p) => p.reminders) ?? [];
  return {
    items,
    more: query.hasNextPage,
    loading: query.isPending,
    problem: query.error ? problemFromError(query.error) : null,
    onMore: () => void query.fetchNextPage(),
    loadingMore: query.isFetchingNextPage,
  };
}

/** A customer's name linking to its page, with details after it. */
function CustomerLine({ reminder, details, team }: { reminder: Reminder; details: ReactNode; team: boolean }) {
  const c = reminder.customer;
  if (!c) return null;
  return (
    <Space direction="vertical" size={0}>
      <Link to={`/customers/${c.id}`}>{c.name}</Link>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {details}
        {team && c.ownerId && (
          <>
            {" · "}
            <EmployeeName id={c.ownerId} />
          </>
        )}
      </Typography.Text>
    </Space>
  );
}

/** Today's, tomorrow's or overdue follow-ups: when the next follow-up is due. */
export function FollowUpSection({ id, kind, title, scope }: { id: string; kind: ReminderKind; title: string; scope: Scope }) {
  const { t, language } = useI18n();
  const list = useReminders(kind, scope);
  return (
    <Section
      id={id}
      title={title}
      {...list}
      rowKey={(r) => r.customer?.id ?? ""}
      renderItem={(r) => (
        <CustomerLine
          reminder={r}
          team={scope.team}
          details={
            r.customer?.nextFollowUpTime
              ? t("day.due", { time: formatTime(language, timestampDate(r.customer.nextFollowUpTime)) })
              : ""
          }
        />
      )}
    />
  );
}

/** Customers without a follow-up for `days` days: when they were last contacted. */
export function NotContactedSection({ scope, days, extra }: { scope: Scope; days: number; extra: ReactNode }) {
  const { t, language } = useI18n();
  const list = useReminders(ReminderKind.NOT_CONTACTED, scope, days);
  return (
    <Section
      id="day-not-contacted"
      title={t("day.notContacted", { days: String(days) })}
      {...list}
      extra={extra}
      rowKey={(r) => r.customer?.id ?? ""}
      renderItem={(r) => (
        <CustomerLine
          reminder={r}
          team={scope.team}
          details={
            r.customer?.lastFollowUpTime
              ? t("day.last", { time: formatDate(language, timestampDate(r.customer.lastFollowUpTime)) })
              : t("day.never")
          }
        />
      )}
    />
  );
}

/** This week's birthdays: the contact (or individual customer), the day, the customer's page. */
export function BirthdaySection({ scope }: { scope: Scope }) {
  const { t } = useI18n();
  const list = useReminders(ReminderKind.BIRTHDAYS_THIS_WEEK, scope);
  const now = new Date();
  const lines = sortBirthdays(
    list.items.map((r) => ({
      key: `${r.customer?.id ?? ""}:${r.contact?.id ?? ""}`,
      name: r.contact?.name || r.customer?.name || "",
      birthday: r.contact?.birthday || r.customer?.birthday || "",
      reminder: r,
    })),
    now,
  );
  return (
    <Section
      id="day-birthdays"
      title={t("day.birthdays")}
      {...list}
      items={lines}
      rowKey={(l) => l.key}
      renderItem={(l) => <BirthdayLine line={l} now={now} team={scope.team} />}
    />
  );
}

function BirthdayLine({ line, now, team }: { line: { name: string; birthday: string; reminder: Reminder }; now: Date; team: boolean }) {
  const { t, language } = useI18n();
  const c = line.reminder.customer;
  const contact = line.reminder.contact;
  const date = birthdayThisWeek(line.birthday, now);
  return (
    <Space direction="vertical" size={0}>
      <span>
        {contact ? <strong>{contact.name}</strong> : null}
        {contact && c ? " · " : null}
        {c && <Link to={`/customers/${c.id}`}>{c.name}</Link>}
      </span>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {date ? t("day.birthdayOn", { date: formatDate(language, date) }) : line.birthday}
        {team && c?.ownerId && (
          <>
            {" · "}
            <EmployeeName id={c.ownerId} />
          </>
        )}
      </Typography.Text>
    </Space>
  );
}
