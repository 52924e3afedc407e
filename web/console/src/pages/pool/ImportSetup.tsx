// Choosing the file of an import and what to do with it: the first rows as a preview, each
// column's field (ImportOptions.column_mapping's fields; a column may be left out), what to do
// with a row that duplicates a customer (ImportMode) and the kind of rows without one.

import { Alert, Form, Radio, Select, Space, Table, Typography, Upload } from "antd";
import { CustomerKind, ImportMode } from "../../gen/crm/customers/v1/customers_pb";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/locale";
import { parseCsv } from "./csv";
import { IMPORT_FIELDS, repeatedFields, type Mapping } from "./importing";

export const PREVIEW_ROWS = 5;

export interface Chosen {
  name: string;
  size: number;
  text: string;
  bytes: Uint8Array<ArrayBuffer>;
  headers: string[];
  preview: string[][];
  /** The file is not UTF-8 (the import reads UTF-8 only). */
  notUtf8: boolean;
}

/** Reads a chosen CSV file: its text (UTF-8 or not), bytes, header row and first rows. */
export async function readChosen(file: File): Promise<Chosen> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let notUtf8 = false;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    notUtf8 = true;
    text = new TextDecoder("utf-8").decode(bytes);
  }
  const { records } = parseCsv(text, PREVIEW_ROWS + 1);
  return { name: file.name, size: file.size, text, bytes, headers: records[0] ?? [], preview: records.slice(1), notUtf8 };
}

export function FilePicker({
  onFile,
  hint,
}: {
  onFile: (file: File) => void;
  /** The hint under the prompt (the customers' by default). */
  hint?: string;
}) {
  const { t } = useI18n();
  return (
    <Upload.Dragger
      id="import-file"
      accept=".csv,text/csv"
      multiple={false}
      showUploadList={false}
      beforeUpload={(file) => {
        onFile(file);
        return false;
      }}
    >
      <p style={{ fontSize: 16, margin: 0 }}>{t("import.choose")}</p>
      <p style={{ margin: 0 }}>{hint ?? t("import.chooseHint")}</p>
    </Upload.Dragger>
  );
}

export function Preview({ file }: { file: Chosen }) {
  const { t, language } = useI18n();
  return (
    <>
      <Typography.Title level={2} style={{ fontSize: 16 }}>
        {t("import.preview", { name: file.name, size: formatNumber(language, file.size) })}
      </Typography.Title>
      {file.notUtf8 && <Alert type="error" showIcon message={t("import.notUtf8")} style={{ marginBottom: 12 }} />}
      <Table<{ key: number; cells: string[] }>
        id="import-preview"
        size="small"
        scroll={{ x: true }}
        pagination={false}
        dataSource={file.preview.map((cells, i) => ({ key: i + 1, cells }))}
        columns={[
          { title: t("import.row"), dataIndex: "key", width: 60 },
          ...file.headers.map((h, i) => ({
            title: h || t("import.column", { n: String(i + 1) }),
            key: String(i),
            render: (_: unknown, r: { cells: string[] }) => r.cells[i] ?? "",
          })),
        ]}
      />
    </>
  );
}

export function MappingForm({
  file,
  mapping,
  onMapping,
}: {
  file: Chosen;
  mapping: Mapping;
  onMapping: (m: Mapping) => void;
}) {
  const { t } = useI18n();
  const repeated = repeatedFields(mapping);
  const options = [
    { value: "", label: t("import.leaveOut") },
    ...IMPORT_FIELDS.map((f) => ({ value: f, label: `${t(`import.f.${f}`)} (${f})` })),
  ];
  return (
    <>
      <Typography.Title level={2} style={{ fontSize: 16 }}>
        {t("import.mapping")}
      </Typography.Title>
      {!mapping.includes("name") && <Alert type="warning" showIcon message={t("import.noName")} style={{ marginBottom: 12 }} />}
      {repeated.length > 0 && (
        <Alert type="error" showIcon message={t("import.repeated", { fields: repeated.join(", ") })} style={{ marginBottom: 12 }} />
      )}
      <Table<{ key: number; header: string; example: string }>
        id="import-mapping"
        size="small"
        pagination={false}
        dataSource={file.headers.map((header, i) => ({ key: i, header, example: file.preview[0]?.[i] ?? "" }))}
        columns={[
          { title: t("import.fileColumn"), dataIndex: "header" },
          { title: t("import.example"), dataIndex: "example" },
          {
            title: t("import.field"),
            key: "field",
            width: 320,
            render: (_, r) => (
              <Select
                id={`import-map-${r.key}`}
                aria-label={t("import.fieldFor", { column: r.header || String(r.key + 1) })}
                value={mapping[r.key] ?? ""}
                options={options}
                showSearch
                optionFilterProp="label"
                style={{ width: "100%" }}
                onChange={(value) => onMapping(mapping.map((m, i) => (i === r.key ? value : m)))}
              />
            ),
          },
        ]}
      />
    </>
  );
}

export interface Options {
  mode: ImportMode;
  defaultKind: CustomerKind;
}

export function OptionsForm({ options, onOptions }: { options: Options; onOptions: (o: Options) => void }) {
  const { t } = useI18n();
  return (
    <Form layout="vertical" style={{ maxWidth: 720 }}>
      <Form.Item label={t("import.mode")} htmlFor="import-mode">
        <Radio.Group
          id="import-mode"
          value={options.mode}
          onChange={(e) => onOptions({ ...options, mode: e.target.value as ImportMode })}
        >
          <Space direction="vertical">
            <Radio value={ImportMode.SKIP}>{t("import.mode.skip")}</Radio>
            <Radio value={ImportMode.UPDATE}>{t("import.mode.update")}</Radio>
            <Radio value={ImportMode.FAIL}>{t("import.mode.fail")}</Radio>
          </Space>
        </Radio.Group>
      </Form.Item>
      <Form.Item label={t("import.defaultKind")} htmlFor="import-kind">
        <Select
          id="import-kind"
          value={options.defaultKind}
          onChange={(v) => onOptions({ ...options, defaultKind: v })}
          style={{ maxWidth: 240 }}
          options={[
            { value: CustomerKind.COMPANY, label: t("import.kind.company") },
            { value: CustomerKind.INDIVIDUAL, label: t("import.kind.individual") },
          ]}
        />
      </Form.Item>
    </Form>
  );
}
