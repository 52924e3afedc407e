// An import while it runs and after it ends: the progress (GetImportJob, polled every ~500 ms)
// with rows read, written and refused, the time left and a Cancel (CancelImport); then the
// counts and the refused rows (row number, field, reason), downloadable as CSV, with the
// file's refused rows themselves to correct and import again. The end (ImportOutcome) is shared
// with the other CSV imports (products), whose answers carry the same counts and errors.

import { Alert, Button, Descriptions, Progress, Space, Table, Typography } from "antd";
import type { ImportCustomersResponse, ImportJob } from "../../gen/crm/customers/v1/customers_pb";
import { ImportJobState } from "../../gen/crm/customers/v1/customers_pb";
import type { Problem } from "../../api/problem";
import { ErrorNotice } from "../../ErrorNotice";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/locale";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { errorsCsv, isImportField, percentDone, refusedRowsCsv, rowsSecondsLeft, splitSeconds, type RowError } from "./importing";
import { saveFile } from "../../api/rest";

export interface Run {
  requestId: string;
  fileName: string;
  /** The text that was uploaded (for the refused rows). */
  text: string;
  /** The data rows in the file (the progress is the rows read of these). */
  rows: number;
  job?: ImportJob;
  result?: ImportCustomersResponse;
  problem?: Problem;
  /** The upload's call has not answered yet. */
  running: boolean;
  cancelling: boolean;
}

/** Offers `text` as a CSV download (with a byte-order mark so spreadsheets read it as UTF-8). */
function download(name: string, text: string) {
  saveFile(new Blob(["\ufeff", text], { type: "text/csv;charset=utf-8" }), name);
}

function TimeLeft({ job, rows }: { job: ImportJob | undefined; rows: number }) {
  const { t, language } = useI18n();
  const service = job?.estimatedSecondsLeft;
  const elapsed = job?.startTime && job.updateTime ? timestampMs(job.updateTime) - timestampMs(job.startTime) : 0;
  // The service's estimate goes by the bytes received; once the whole file is in it says 0
  // while rows are still being written, so the rows' rate is used then.
  const seconds =
    service !== undefined && service > 0n ? Number(service) : rowsSecondsLeft(elapsed, Number(job?.rowsRead ?? 0), rows);
  if (seconds === undefined) return <>{t("import.timeUnknown")}</>;
  const { minutes, seconds: s } = splitSeconds(seconds);
  return (
    <>
      {minutes > 0
        ? t("import.minutesLeft", { minutes: formatNumber(language, minutes), seconds: formatNumber(language, s) })
        : t("import.secondsLeft", { seconds: formatNumber(language, s) })}
    </>
  );
}

export function ImportRun({ run, onCancel, onAgain }: { run: Run; onCancel: () => void; onAgain: () => void }) {
  const { t, language } = useI18n();
  const n = (v: bigint | number | undefined) => formatNumber(language, Number(v ?? 0));
  const job = run.job;
  const result = run.result;
  const ended = !run.running;
  const written = job ? job.created + job.updated + job.skipped : 0n;
  const failedState = job?.state === ImportJobState.FAILED || (!!run.problem && !result);
  const cancelled = result?.cancelled || job?.state === ImportJobState.CANCELLED;
  // Rows read of the file's rows; the bytes arrive long before the rows are written.
  const percent =
    run.rows > 0
      ? percentDone(Number(job?.rowsRead ?? 0), run.rows, ended && !failedState)
      : percentDone(Number(job?.bytesReceived ?? 0), Number(job?.bytesDeclared ?? 0), ended && !failedState);

  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }} id="import-run">
      <Progress
        percent={percent}
        status={failedState ? "exception" : ended ? (cancelled ? "normal" : "success") : "active"}
        aria-label={t("import.progress")}
      />
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 4 }} bordered id="import-progress">
        <Descriptions.Item label={t("import.rowsRead")}>
          <span id="import-rows-read">{n(job?.rowsRead)}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t("import.rowsWritten")}>
          <span id="import-rows-written">{n(written)}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t("import.rowsRefused")}>
          <span id="import-rows-refused">{n(job?.failed ?? result?.failed)}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t("import.timeLeft")}>
          {ended ? t("import.done") : <TimeLeft job={job} rows={run.rows} />}
        </Descriptions.Item>
      </Descriptions>
      {run.running && (
        <Space>
          <Button id="import-cancel" danger onClick={onCancel} loading={run.cancelling} disabled={!job || job.cancelRequested}>
            {t("import.cancel")}
          </Button>
          {job?.cancelRequested && <Typography.Text type="secondary">{t("import.stopping")}</Typography.Text>}
        </Space>
      )}
      {run.problem && <ErrorNotice problem={run.problem} />}
      {ended && job?.state === ImportJobState.FAILED && job.errorMessage && !run.problem && (
        <Alert type="error" showIcon message={job.errorMessage} />
      )}
      {result && (
        <ImportOutcome
          result={result}
          cancelled={!!cancelled}
          fileName={run.fileName}
          text={run.text}
          fieldLabel={(field) => (isImportField(field) ? `${t(`import.f.${field}`)} (${field})` : field)}
        />
      )}
      {ended && (
        <Button type="primary" onClick={onAgain}>
          {t("import.again")}
        </Button>
      )}
    </Space>
  );
}

/** What an import's answer carries, whichever service imported (customers, products). */
export interface ImportAnswer {
  created: bigint;
  updated: bigint;
  skipped: bigint;
  failed: bigint;
  errors: { row: bigint; field: string; reason: string }[];
  ignoredColumns: string[];
}

/**
 * The end of an import: the counts, the file's columns nothing read, and the refused rows (row
 * number, column, reason), downloadable as CSV with the file's refused rows themselves.
 */
export function ImportOutcome({
  result,
  cancelled = false,
  fileName,
  text,
  fieldLabel = (field) => field,
}: {
  result: ImportAnswer;
  cancelled?: boolean;
  fileName: string;
  /** The text that was uploaded (for the refused rows). */
  text: string;
  fieldLabel?: (field: string) => string;
}) {
  const { t, language } = useI18n();
  const n = (v: bigint | number | undefined) => formatNumber(language, Number(v ?? 0));
  const errors: RowError[] = result.errors.map((e) => ({ row: Number(e.row), field: e.field, reason: e.reason }));
  const headings: [string, string, string] = [t("import.row"), t("import.field"), t("import.reason")];
  const base = fileName.replace(/\.csv$/i, "");
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Alert
        id="import-result"
        type={cancelled ? "warning" : result.failed > 0n ? "warning" : "success"}
        showIcon
        message={cancelled ? t("import.cancelled") : t("import.finished")}
        description={
          <span id="import-counts">
            {t("import.counts", {
              created: n(result.created),
              updated: n(result.updated),
              skipped: n(result.skipped),
              failed: n(result.failed),
            })}
          </span>
        }
      />
      {result.ignoredColumns.length > 0 && (
        <Alert
          id="import-ignored"
          type="warning"
          showIcon
          message={t("import.ignored", { columns: result.ignoredColumns.join(", ") })}
        />
      )}
      {errors.length > 0 && (
        <>
          <Space wrap>
            <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
              {t("import.errors")}
            </Typography.Title>
            <Button onClick={() => download(`${base}-errors.csv`, errorsCsv(errors, headings))}>
              {t("import.downloadErrors")}
            </Button>
            <Button onClick={() => download(`${base}-refused.csv`, refusedRowsCsv(text, errors, t("import.reason")))}>
              {t("import.downloadRefused")}
            </Button>
          </Space>
          <Table<RowError & { key: string }>
            id="import-errors"
            size="small"
            dataSource={errors.map((e, i) => ({ ...e, key: `${e.row}:${e.field}:${i}` }))}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            columns={[
              { title: t("import.row"), dataIndex: "row", width: 100 },
              {
                title: t("import.field"),
                key: "field",
                width: 220,
                render: (_, e) => fieldLabel(e.field),
              },
              { title: t("import.reason"), dataIndex: "reason" },
            ]}
          />
        </>
      )}
    </Space>
  );
}
