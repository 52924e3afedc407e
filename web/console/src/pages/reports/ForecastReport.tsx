// The forecast tab: weighted amounts per month or quarter of planned close date (stacked by
// forecast category) against the quota of the caller, the caller's department (the team, where
// a manager starts), a salesperson or a department; how the
// forecast moved week by week (the snapshots, one taken on demand by quota managers); the quotas
// set.

import { useMemo, useState } from "react";
import { Button, Card, Form, Input, Radio, Select, Space, Table, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { identity, sales } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { allows, session } from "../../api/session";
import { Chart } from "../../components/Chart";
import { EmployeeName } from "../../components/EmployeeName";
import { EmployeePicker } from "../../components/EmployeePicker";
import { ErrorNotice } from "../../ErrorNotice";
import { ForecastPeriod, type Quota } from "../../gen/crm/sales/v1/sales_pb.js";
import { useI18n } from "../../i18n";
import { forecastFigures, snapshotFigures } from "./figures";
import { ALL_TIME, PeriodPicker, useFormats, type Period } from "./shared";

type Subject = "me" | "team" | "employee" | "department";

export function ForecastReport() {
  const { t } = useI18n();
  const formats = useFormats();
  const queryClient = useQueryClient();
  const [periodKind, setPeriodKind] = useState(ForecastPeriod.MONTH);
  const [range, setRange] = useState<Period>(ALL_TIME);
  const me = session();
  const myDepartment = me?.employee?.departmentId ?? "";
  // Whoever sets quotas (a manager) starts on the team's forecast, others on their own.
  const [subject, setSubject] = useState<Subject>(myDepartment && allows(me, "sales.quota.manage") ? "team" : "me");
  const [employeeId, setEmployeeId] = useState("");
  const [departmentId, setDepartmentId] = useState("");
  const [prefix, setPrefix] = useState("");
  const subjectId = subject === "employee" ? employeeId : subject === "department" ? departmentId : subject === "team" ? myDepartment : "";
  const department = subject === "department" || subject === "team";

  const departments = useQuery({
    queryKey: ["departments"],
    queryFn: ({ signal }) => identity.listDepartments({}, { signal }),
    staleTime: 60_000,
  });
  const forecast = useQuery({
    queryKey: ["report", "forecast", periodKind, range, subjectId, department],
    queryFn: ({ signal }) => sales.getForecast({ period: periodKind, range, subjectId, department }, { signal }),
    enabled: subject === "me" || !!subjectId,
  });
  const snapshots = useQuery({
    queryKey: ["report", "snapshots", subjectId, department, prefix],
    queryFn: ({ signal }) => sales.listForecastSnapshots({ subjectId, department, periodPrefix: prefix.trim() }, { signal }),
    enabled: subject === "me" || !!subjectId,
  });
  const quotas = useQuery({
    queryKey: ["quotas", prefix],
    queryFn: ({ signal }) => sales.listQuotas({ periodPrefix: prefix.trim() }, { signal }),
  });
  const take = useMutation({
    mutationFn: () => sales.takeForecastSnapshot({}),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["report", "snapshots"] }),
  });

  const forecastChart = useMemo(
    () => (forecast.data ? forecastFigures(forecast.data.rows, forecast.data.totals, formats) : null),
    [forecast.data, formats],
  );
  const snapshotChart = useMemo(() => (snapshots.data ? snapshotFigures(snapshots.data.rows, formats) : null), [snapshots.data, formats]);
  const departmentName = (id: string) => departments.data?.departments.find((d) => d.id === id)?.name ?? id;
  const problem = [forecast.error, snapshots.error, quotas.error, take.error].find((e) => e);

  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Form layout="inline" style={{ rowGap: 8 }}>
        <Form.Item label={t("reports.forecast.by")} style={{ marginBottom: 0 }}>
          <Radio.Group
            aria-label={t("reports.forecast.by")}
            value={periodKind}
            onChange={(e) => setPeriodKind(e.target.value as ForecastPeriod)}
            options={[
              { value: ForecastPeriod.MONTH, label: t("reports.forecast.month") },
              { value: ForecastPeriod.QUARTER, label: t("reports.forecast.quarter") },
            ]}
            optionType="button"
          />
        </Form.Item>
        <PeriodPicker id="forecast-range" value={range} onChange={setRange} />
        <Form.Item label={t("reports.forecast.subject")} htmlFor="forecast-subject" style={{ marginBottom: 0 }}>
          <Select<Subject>
            id="forecast-subject"
            style={{ minWidth: 140 }}
            value={subject}
            onChange={setSubject}
            options={[
              { value: "me", label: t("reports.forecast.me") },
              ...(myDepartment ? [{ value: "team" as const, label: t("reports.forecast.team") }] : []),
              { value: "employee", label: t("reports.forecast.employee") },
              { value: "department", label: t("reports.forecast.department") },
            ]}
          />
        </Form.Item>
        {subject === "employee" && (
          <Form.Item style={{ marginBottom: 0 }}>
            <EmployeePicker id="forecast-employee" value={employeeId} onChange={setEmployeeId} ariaLabel={t("reports.forecast.employee")} placeholder={t("reports.forecast.employee")} />
          </Form.Item>
        )}
        {subject === "department" && (
          <Form.Item style={{ marginBottom: 0 }}>
            <Select
              id="forecast-department"
              aria-label={t("reports.forecast.department")}
              placeholder={t("reports.forecast.department")}
              style={{ minWidth: 200 }}
              value={departmentId || undefined}
              onChange={setDepartmentId}
              options={(departments.data?.departments ?? []).map((d) => ({ value: d.id, label: d.name }))}
            />
          </Form.Item>
        )}
      </Form>
      <ErrorNotice problem={problem ? problemFromError(problem) : null} />
      <Card size="small" title={t("reports.forecast.title")}>
        {forecastChart && <Chart option={forecastChart.option} table={forecastChart.table} label={t("reports.forecast.chart")} testId="forecast-table" />}
      </Card>
      <Card
        size="small"
        title={t("reports.snapshots.title")}
        extra={
          <Space>
            {take.data && (
              <Typography.Text type="secondary" role="status">
                {t("reports.snapshots.taken", { week: take.data.week, rows: formats.count(take.data.rows) })}
              </Typography.Text>
            )}
            <Input
              id="snapshot-prefix"
              aria-label={t("reports.snapshots.prefix")}
              placeholder={t("reports.snapshots.prefix")}
              value={prefix}
              onChange={(e) => setPrefix(e.target.value)}
              style={{ width: 200 }}
              allowClear
            />
            {allows(me, "sales.quota.manage") && (
              <Button onClick={() => take.mutate()} loading={take.isPending}>
                {t("reports.snapshots.take")}
              </Button>
            )}
          </Space>
        }
      >
        {snapshotChart && <Chart option={snapshotChart.option} table={snapshotChart.table} label={t("reports.snapshots.chart")} height={300} testId="snapshot-table" />}
      </Card>
      <Card size="small" title={t("reports.quotas.title")}>
        <Table<Quota>
          size="small"
          rowKey={(q) => `${q.period}:${q.department}:${q.subjectId}`}
          loading={quotas.isFetching}
          dataSource={quotas.data?.quotas ?? []}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          locale={{ emptyText: <Typography.Text type="secondary">{t("reports.quotas.empty")}</Typography.Text> }}
          columns={[
            { title: t("reports.forecast.period"), dataIndex: "period" },
            {
              title: t("reports.quotas.subject"),
              key: "subject",
              render: (_, q) => (q.department ? `${departmentName(q.subjectId)} (${t("reports.forecast.department")})` : <EmployeeName id={q.subjectId} />),
            },
            { title: t("reports.quotas.amount"), key: "amount", render: (_, q) => formats.money(q.amount) },
          ]}
        />
      </Card>
    </Space>
  );
}
