// Importing products from a CSV file (REST `POST /v1/products:import`, the file as the body, the
// options in the query string): the file chosen and its first rows shown, what to do with a row
// whose code a product has (skip, update, refuse), then the counts, the file's columns nothing
// read, and each refused row's number, column and reason.

import { useState } from "react";
import { Button, Form, Radio, Space, Typography } from "antd";
import { Link } from "react-router";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { useQueryClient } from "@tanstack/react-query";
import { problemFromError, type Problem } from "../api/problem";
import { restFetch, sha256Hex } from "../api/rest";
import { ErrorNotice } from "../ErrorNotice";
import {
  ImportProductsResponseSchema,
  ProductImportMode,
  ProductImportModeSchema,
  type ImportProductsResponse,
} from "../gen/crm/warehouse/v1/warehouse_pb.js";
import { useI18n } from "../i18n";
import { newRequestId } from "./pool/importing";
import { ImportOutcome } from "./pool/ImportRun";
import { FilePicker, Preview, readChosen, type Chosen } from "./pool/ImportSetup";
import { productImportUrl } from "./products/csv";

export default function ProductImport() {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<Chosen | null>(null);
  const [mode, setMode] = useState<ProductImportMode>(ProductImportMode.SKIP);
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<ImportProductsResponse | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  const again = () => {
    setFile(null);
    setResult(null);
    setProblem(null);
  };

  const start = async () => {
    if (!file) return;
    setRunning(true);
    setProblem(null);
    setResult(null);
    try {
      const url = productImportUrl({
        requestId: newRequestId(),
        mode: ProductImportModeSchema.value[mode].name,
        sha256: await sha256Hex(file.bytes),
      });
      const response = await restFetch(url, {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: new Blob([file.bytes], { type: "text/csv" }),
      });
      const json = (await response.json()) as JsonValue;
      setResult(fromJson(ImportProductsResponseSchema, json, { ignoreUnknownFields: true }));
      void queryClient.invalidateQueries({ queryKey: ["products"] });
    } catch (e) {
      setProblem(problemFromError(e));
    } finally {
      setRunning(false);
    }
  };

  return (
    <Space direction="vertical" size="large" style={{ width: "100%" }}>
      <Link to="/products">{t("productcsv.import.back")}</Link>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t("productcsv.import.title")}
      </Typography.Title>
      {result ? (
        <>
          <ImportOutcome result={result} fileName={file?.name ?? "products.csv"} text={file?.text ?? ""} />
          <Button type="primary" onClick={again}>
            {t("import.again")}
          </Button>
        </>
      ) : (
        <>
          <FilePicker hint={t("productcsv.import.hint")} onFile={(f) => void readChosen(f).then(setFile)} />
          {file && (
            <>
              <Preview file={file} />
              <Form layout="vertical">
                <Form.Item label={t("productcsv.import.mode")} htmlFor="product-import-mode">
                  <Radio.Group id="product-import-mode" value={mode} onChange={(e) => setMode(e.target.value as ProductImportMode)}>
                    <Space direction="vertical">
                      <Radio value={ProductImportMode.SKIP}>{t("productcsv.import.mode.skip")}</Radio>
                      <Radio value={ProductImportMode.UPDATE}>{t("productcsv.import.mode.update")}</Radio>
                      <Radio value={ProductImportMode.FAIL}>{t("productcsv.import.mode.fail")}</Radio>
                    </Space>
                  </Radio.Group>
                </Form.Item>
              </Form>
              <Button
                type="primary"
                id="product-import-start"
                loading={running}
                disabled={file.notUtf8 || file.headers.length === 0}
                onClick={() => void start()}
              >
                {t("import.start")}
              </Button>
            </>
          )}
        </>
      )}
      <ErrorNotice problem={problem} />
    </Space>
  );
}
