// Importing customers from a CSV file: choose the file, look at its first rows, map its columns
// to the customer's fields, choose what to do with duplicates, then upload it (REST
// `POST /v1/customers:import`, the file as the body, the options in the query string) while
// GetImportJob shows the progress and CancelImport stops it; at the end the counts and each
// refused row's number, field and reason.

import { useEffect, useRef, useState } from "react";
import { Button, Space, Typography } from "antd";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { customers } from "../api/client";
import { problemFromError } from "../api/problem";
import { restFetch, sha256Hex } from "../api/rest";
import {
  CustomerKind,
  CustomerKindSchema,
  ImportCustomersResponseSchema,
  ImportMode,
  ImportModeSchema,
} from "../gen/crm/customers/v1/customers_pb";
import { useI18n } from "../i18n";
import { parseCsv } from "./pool/csv";
import { guessField, importUrl, mappingIsIdentity, newRequestId, rebuildCsv, repeatedFields, type Mapping } from "./pool/importing";
import { ImportRun, type Run } from "./pool/ImportRun";
import { FilePicker, MappingForm, OptionsForm, Preview, readChosen, type Chosen, type Options } from "./pool/ImportSetup";

const POLL_MS = 500;

export default function CustomerImport() {
  const { t } = useI18n();
  const [file, setFile] = useState<Chosen | null>(null);
  const [mapping, setMapping] = useState<Mapping>([]);
  const [options, setOptions] = useState<Options>({ mode: ImportMode.SKIP, defaultKind: CustomerKind.COMPANY });
  const [run, setRun] = useState<Run | null>(null);
  const poll = useRef<ReturnType<typeof setInterval> | undefined>(undefined);

  useEffect(() => () => clearInterval(poll.current), []);

  const choose = (f: File) => {
    void readChosen(f).then((chosen) => {
      setFile(chosen);
      setMapping(chosen.headers.map(guessField));
      setRun(null);
    });
  };

  const refresh = async (requestId: string) => {
    try {
      const { job } = await customers.getImportJob({ requestId });
      if (job) setRun((r) => (r && r.requestId === requestId ? { ...r, job } : r));
    } catch (e) {
      // The job exists once the service has the first message; until then it is NOT_FOUND.
      if (!(e instanceof ConnectError && e.code === Code.NotFound)) {
        setRun((r) => (r && r.requestId === requestId ? { ...r, problem: problemFromError(e) } : r));
      }
    }
  };

  const start = async () => {
    if (!file) return;
    const requestId = newRequestId();
    const text = mappingIsIdentity(file.headers, mapping) ? file.text : rebuildCsv(file.text, mapping);
    const body: Uint8Array<ArrayBuffer> = text === file.text && !file.notUtf8 ? file.bytes : new TextEncoder().encode(text);
    const rows = parseCsv(text).records.length - 1;
    setRun({ requestId, fileName: file.name, text, rows, running: true, cancelling: false });
    const url = importUrl({
      requestId,
      mode: ImportModeSchema.value[options.mode].name,
      defaultKind: CustomerKindSchema.value[options.defaultKind].name,
      sha256: await sha256Hex(body),
    });
    clearInterval(poll.current);
    poll.current = setInterval(() => void refresh(requestId), POLL_MS);
    try {
      const response = await restFetch(url, {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: new Blob([body], { type: "text/csv" }),
      });
      const json = (await response.json()) as JsonValue;
      const result = fromJson(ImportCustomersResponseSchema, json, { ignoreUnknownFields: true });
      setRun((r) => (r && r.requestId === requestId ? { ...r, result } : r));
    } catch (e) {
      setRun((r) => (r && r.requestId === requestId ? { ...r, problem: problemFromError(e) } : r));
    } finally {
      clearInterval(poll.current);
      await refresh(requestId);
      setRun((r) => (r && r.requestId === requestId ? { ...r, running: false, cancelling: false } : r));
    }
  };

  const cancel = async () => {
    if (!run) return;
    setRun((r) => (r ? { ...r, cancelling: true } : r));
    try {
      const { job } = await customers.cancelImport({ requestId: run.requestId });
      setRun((r) => (r && r.requestId === run.requestId ? { ...r, job: job ?? r.job, cancelling: false } : r));
    } catch (e) {
      setRun((r) => (r && r.requestId === run.requestId ? { ...r, problem: problemFromError(e), cancelling: false } : r));
    }
  };

  const again = () => {
    setRun(null);
    setFile(null);
    setMapping([]);
  };

  const blocked = !file || file.notUtf8 || file.headers.length === 0 || !mapping.some(Boolean) || repeatedFields(mapping).length > 0;

  return (
    <Space direction="vertical" size="large" style={{ width: "100%" }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t("import.title")}
      </Typography.Title>
      {run ? (
        <ImportRun run={run} onCancel={() => void cancel()} onAgain={again} />
      ) : (
        <>
          <FilePicker onFile={choose} />
          {file && (
            <>
              <Preview file={file} />
              <MappingForm file={file} mapping={mapping} onMapping={setMapping} />
              <OptionsForm options={options} onOptions={setOptions} />
              <Button type="primary" id="import-start" disabled={blocked} onClick={() => void start()}>
                {t("import.start")}
              </Button>
            </>
          )}
        </>
      )}
    </Space>
  );
}
