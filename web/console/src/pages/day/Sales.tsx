// The sales sections of "My day": open leads whose next follow-up is due (today or overdue),
// linking to /leads/:id, and stuck deals (open opportunities longer in their stage than its time
// limit), linking to /opportunities/:id.

import { Space, Typography } from "antd";
import { Link } from "react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { sales } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { useI18n } from "../../i18n";
import { formatDate, formatMoney, formatTime } from "../../i18n/locale";
import { andFilters, dueBy, dueLeads, OPEN_LEADS, ownerFilter } from "./logic";
import { Section } from "./Section";
import type { Scope } from "./Reminders";

export function LeadsSection({ scope, employeeId }: { scope: Scope; employeeId: string }) {
  const { t, language } = useI18n();
  const now = new Date();
  const filter = andFilters(OPEN_LEADS, ownerFilter(scope.team, employeeId), dueBy(now, scope.utcOffsetMinutes));
  const query = useInfiniteQuery({
    queryKey: ["day-leads", filter],
    queryFn: ({ pageParam, signal }) => sales.listLeads({ filter, pageSize: 50, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const due = dueLeads(
    (query.data?.pages.flatMap((p) => p.leads) ?? []).map((lead) => ({
      id: lead.id,
      lead,
      nextFollowUpTime: lead.nextFollowUpTime ? timestampDate(lead.nextFollowUpTime) : undefined,
    })),
    now,
    scope.utcOffsetMinutes,
  );
  return (
    <Section
      id="day-leads"
      title={t("day.leads")}
      items={due}
      more={query.hasNextPage}
      onMore={() => void query.fetchNextPage()}
      loadingMore={query.isFetchingNextPage}
      loading={query.isPending}
      problem={query.error ? problemFromError(query.error) : null}
      rowKey={(l) => l.id}
      renderItem={({ lead, nextFollowUpTime }) => (
        <Space direction="vertical" size={0}>
          <Link to={`/leads/${lead.id}`}>{lead.companyName || lead.contactName || lead.id}</Link>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {lead.contactName && lead.companyName ? `${lead.contactName} · ` : ""}
            {nextFollowUpTime ? t("day.due", { time: formatTime(language, nextFollowUpTime) }) : ""}
            {scope.team && lead.ownerId && (
              <>
                {" · "}
                <EmployeeName id={lead.ownerId} />
              </>
            )}
          </Typography.Text>
        </Space>
      )}
    />
  );
}

export function StuckSection({ scope, employeeId }: { scope: Scope; employeeId: string }) {
  const { t, language } = useI18n();
  const filter = ownerFilter(scope.team, employeeId);
  const query = useInfiniteQuery({
    queryKey: ["day-stuck", filter],
    queryFn: ({ pageParam, signal }) =>
      sales.listOpportunities({ stuckOnly: true, filter, pageSize: 50, pageToken: pageParam }, { signal }),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  const items = query.data?.pages.flatMap((p) => p.opportunities) ?? [];
  return (
    <Section
      id="day-stuck"
      title={t("day.stuck")}
      items={items}
      more={query.hasNextPage}
      onMore={() => void query.fetchNextPage()}
      loadingMore={query.isFetchingNextPage}
      loading={query.isPending}
      problem={query.error ? problemFromError(query.error) : null}
      rowKey={(o) => o.id}
      renderItem={(o) => (
        <Space direction="vertical" size={0}>
          <Link to={`/opportunities/${o.id}`}>{o.subject || o.id}</Link>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {o.stageEnterTime ? t("day.inStageSince", { date: formatDate(language, timestampDate(o.stageEnterTime)) }) : ""}
            {o.expectedAmount?.amount ? ` · ${formatMoney(language, o.expectedAmount.amount, o.expectedAmount.currencyCode || "CNY")}` : ""}
            {scope.team && o.ownerId && (
              <>
                {" · "}
                <EmployeeName id={o.ownerId} />
              </>
            )}
          </Typography.Text>
        </Space>
      )}
    />
  );
}
