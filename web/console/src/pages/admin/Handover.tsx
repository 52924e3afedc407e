// Passing an employee's open records to a successor: deactivation (the employee leaves) or a
// handover alone (a territory change). A dry run first shows what would move, per service and
// kind of record; then the real run, confirmed, starts the handover (the services move the
// records as they receive the event).

import { useState } from "react";
import { Alert, Button, Popconfirm, Space, Table, Typography } from "antd";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { identity } from "../../api/client";
import { problemFromError } from "../../api/problem";
import { EmployeeName } from "../../components/EmployeeName";
import { EmployeePicker } from "../../components/EmployeePicker";
import { ErrorNotice } from "../../ErrorNotice";
import type { HandoverCount } from "../../gen/crm/events/v1/handover_pb.js";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/locale";
import { kindKey, summarizeCounts, type CountRow } from "./logic";

export type HandoverMode = "deactivate" | "handover";

interface Outcome {
  successorId: string;
  counts: HandoverCount[];
  handoverId: string;
  dryRun: boolean;
}

export function DryRunCounts({ counts }: { counts: HandoverCount[] }) {
  const { t, language } = useI18n();
  const { rows, total } = summarizeCounts(counts);
  const label = (key: string, raw: string) => (key ? t(key) : raw);
  const service = (s: string) => {
    const key = `admin.service.${s}`;
    const text = t(key);
    return text === key ? s : text;
  };
  return (
    <Table<CountRow>
      size="small"
      rowKey="key"
      pagination={false}
      data-testid="handover-counts"
      dataSource={rows}
      columns={[
        { title: t("admin.handover.kind"), key: "kind", render: (_, r) => label(kindKey(r.kind), r.kind) },
        { title: t("admin.handover.service"), key: "service", render: (_, r) => service(r.service) },
        {
          title: t("admin.handover.count"),
          key: "count",
          align: "right",
          render: (_, r) => <span data-kind={r.kind}>{formatNumber(language, r.count)}</span>,
        },
      ]}
      summary={() => (
        <Table.Summary.Row>
          <Table.Summary.Cell index={0} colSpan={2}>
            {t("admin.handover.total")}
          </Table.Summary.Cell>
          <Table.Summary.Cell index={2} align="right">
            {formatNumber(language, total)}
          </Table.Summary.Cell>
        </Table.Summary.Row>
      )}
    />
  );
}

export function Handover({ employeeId, mode }: { employeeId: string; mode: HandoverMode }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [successorId, setSuccessorId] = useState("");
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const run = useMutation({
    mutationFn: async ({ dryRun }: { dryRun: boolean }): Promise<Outcome> => {
      const request = { id: employeeId, successorId, dryRun };
      const answer = mode === "deactivate" ? await identity.deactivateEmployee(request) : await identity.handOverEmployee(request);
      return { successorId, counts: answer.counts, handoverId: answer.handoverId, dryRun };
    },
    onSuccess: (o) => {
      setOutcome(o);
      if (!o.dryRun) {
        void queryClient.invalidateQueries({ queryKey: ["employee", employeeId] });
        void queryClient.invalidateQueries({ queryKey: ["employees"] });
        void queryClient.invalidateQueries({ queryKey: ["directory"] });
      }
    },
  });
  const prefix = mode === "deactivate" ? "admin.deactivate" : "admin.handover";
  const ready = outcome?.dryRun && outcome.successorId === successorId;
  const pickerId = `${mode}-successor`;
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Typography.Paragraph type="secondary">{t(`${prefix}.explain`)}</Typography.Paragraph>
      <Space wrap>
        <label htmlFor={pickerId}>{t("admin.handover.successor")}</label>
        <EmployeePicker
          id={pickerId}
          ariaLabel={t("admin.handover.successor")}
          value={successorId}
          onChange={(id) => {
            setSuccessorId(id);
            setOutcome(null);
          }}
          exclude={[employeeId]}
        />
        <Button disabled={!successorId} loading={run.isPending && run.variables?.dryRun} onClick={() => run.mutate({ dryRun: true })}>
          {t("admin.handover.dryRun")}
        </Button>
        <Popconfirm title={t("common.confirm")} description={t(`${prefix}.confirm`)} onConfirm={() => run.mutate({ dryRun: false })} okText={t(`${prefix}.run`)} cancelText={t("common.cancel")}>
          <Button type="primary" disabled={!ready} loading={run.isPending && !run.variables?.dryRun}>
            {t(`${prefix}.run`)}
          </Button>
        </Popconfirm>
      </Space>
      <ErrorNotice problem={run.error ? problemFromError(run.error) : null} />
      {outcome && (
        <>
          <Alert
            type={outcome.dryRun ? "info" : "success"}
            showIcon
            message={
              outcome.dryRun ? (
                <>
                  {t("admin.handover.wouldMove")} <EmployeeName id={outcome.successorId} />
                </>
              ) : (
                <>
                  {t(`${prefix}.done`)} <EmployeeName id={outcome.successorId} />
                </>
              )
            }
            description={outcome.handoverId ? t("admin.handover.id", { id: outcome.handoverId }) : undefined}
          />
          <DryRunCounts counts={outcome.counts} />
        </>
      )}
    </Space>
  );
}
