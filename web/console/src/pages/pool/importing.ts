// The import's client side: the fields a CSV column may feed (ImportOptions.column_mapping),
// a guess of each column's field from its header, the file rebuilt for a mapping (the
// gateway's REST route cannot carry a map in its query string, so the header row carries the
// mapping), the upload's URL with the options as query parameters, and the reports of refused
// rows.

import { parseCsv, toCsv, isBlank } from "./csv";

/** The fields an import column may feed, as ImportOptions documents them. */
export const IMPORT_FIELDS = [
  "name",
  "kind",
  "short_name",
  "tax_id",
  "industry_code",
  "level_code",
  "source_code",
  "type_code",
  "phone",
  "mobile",
  "email",
  "website",
  "address",
  "region.country",
  "region.province",
  "region.city",
  "region.district",
  "remark",
  "tags",
  "contact.name",
  "contact.mobile",
  "contact.phone",
  "contact.email",
  "contact.title",
] as const;

export type ImportField = (typeof IMPORT_FIELDS)[number];

/** Whether `name` is one of the fields an import column may feed. */
export function isImportField(name: string): name is ImportField {
  return (IMPORT_FIELDS as readonly string[]).includes(name);
}

/** Headers people write for the fields, in the console's languages. */
const ALIASES: Record<string, ImportField> = {
  名称: "name",
  客户名称: "name",
  公司名称: "name",
  客户: "name",
  nombre: "name",
  cliente: "name",
  类型: "kind",
  简称: "short_name",
  税号: "tax_id",
  统一社会信用代码: "tax_id",
  行业: "industry_code",
  级别: "level_code",
  等级: "level_code",
  来源: "source_code",
  电话: "phone",
  座机: "phone",
  teléfono: "phone",
  telefono: "phone",
  手机: "mobile",
  手机号: "mobile",
  móvil: "mobile",
  movil: "mobile",
  邮箱: "email",
  电子邮件: "email",
  correo: "email",
  网站: "website",
  地址: "address",
  dirección: "address",
  direccion: "address",
  国家: "region.country",
  país: "region.country",
  省: "region.province",
  省份: "region.province",
  provincia: "region.province",
  城市: "region.city",
  市: "region.city",
  ciudad: "region.city",
  区: "region.district",
  区县: "region.district",
  备注: "remark",
  notas: "remark",
  标签: "tags",
  etiquetas: "tags",
  联系人: "contact.name",
  contacto: "contact.name",
  联系人手机: "contact.mobile",
  联系人电话: "contact.phone",
  联系人邮箱: "contact.email",
  职务: "contact.title",
  职位: "contact.title",
};

/** The field a header most likely means, or "" (the column is left out). */
export function guessField(header: string): ImportField | "" {
  const h = header.trim().toLowerCase();
  const exact = IMPORT_FIELDS.find((f) => f === h);
  if (exact) return exact;
  return ALIASES[h] ?? ALIASES[header.trim()] ?? "";
}

/** Each column's field ("" = left out). */
export type Mapping = (ImportField | "")[];

/** The fields chosen for more than one column (a mistake to show before uploading). */
export function repeatedFields(mapping: Mapping): ImportField[] {
  const seen = new Set<string>();
  const repeated = new Set<ImportField>();
  for (const f of mapping) {
    if (!f) continue;
    if (seen.has(f)) repeated.add(f);
    seen.add(f);
  }
  return [...repeated];
}

/** Whether the file can go as it is: every column's header already is its field's name. */
export function mappingIsIdentity(headers: string[], mapping: Mapping): boolean {
  return headers.every((h, i) => mapping[i] !== "" && mapping[i] === h);
}

/**
 * The file to upload for `mapping`: the mapped columns only, headed by their field names, every
 * record kept in place (so the service's row numbers are the file's). Line breaks inside a
 * field become LF (the service refuses a CR in a value).
 */
export function rebuildCsv(text: string, mapping: Mapping): string {
  const { records } = parseCsv(text);
  const keep = mapping.map((f, i) => (f ? i : -1)).filter((i) => i >= 0);
  const out = records.map((r, index) =>
    index === 0
      ? keep.map((i) => mapping[i] as string)
      : isBlank(r)
        ? keep.map(() => "")
        : keep.map((i) => (r[i] ?? "").replace(/\r\n?/g, "\n")),
  );
  return toCsv(out);
}

/** The options of an import as the gateway's query string takes them. */
export interface ImportQuery {
  requestId: string;
  /** Full enum names: IMPORT_MODE_SKIP, IMPORT_MODE_UPDATE, IMPORT_MODE_FAIL. */
  mode: string;
  /** CUSTOMER_KIND_COMPANY or CUSTOMER_KIND_INDIVIDUAL; empty for the service's default. */
  defaultKind: string;
  /** The file's SHA-256 in hex, or empty when the browser cannot compute it. */
  sha256: string;
}

/** `POST` target of an import: `/v1/customers:import?options.requestId=…&options.mode=…`. */
export function importUrl(q: ImportQuery): string {
  const params = new URLSearchParams();
  params.set("options.requestId", q.requestId);
  if (q.mode) params.set("options.mode", q.mode);
  if (q.defaultKind) params.set("options.defaultKind", q.defaultKind);
  if (q.sha256) params.set("options.declared.sha256", q.sha256);
  return `/v1/customers:import?${params.toString()}`;
}

/** A random UUID (v4), also where `crypto.randomUUID` is missing (plain-HTTP origins). */
export function newRequestId(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const b = random(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What the service says of one refused row. */
export interface RowError {
  row: number;
  field: string;
  reason: string;
}

/** The error report as CSV, headed in the user's language. */
export function errorsCsv(errors: RowError[], headings: [string, string, string]): string {
  return toCsv([headings, ...errors.map((e) => [String(e.row), e.field, e.reason])]);
}

/**
 * The refused rows of the original file, with its header and one more column saying why, so
 * they can be corrected and imported again. Row numbers are 1-based data rows (header = 0).
 */
export function refusedRowsCsv(text: string, errors: RowError[], reasonHeading: string): string {
  const { records } = parseCsv(text);
  const reasons = new Map<number, string[]>();
  for (const e of errors) reasons.set(e.row, [...(reasons.get(e.row) ?? []), e.field ? `${e.field}: ${e.reason}` : e.reason]);
  const header = records[0] ?? [];
  const rows = [...reasons.keys()]
    .sort((a, b) => a - b)
    .filter((row) => records[row] !== undefined)
    .map((row) => [...header.map((_, i) => records[row][i] ?? ""), reasons.get(row)!.join("; ")]);
  return toCsv([[...header, reasonHeading], ...rows]);
}

/** How far an upload has come, 0–100, from the bytes received of the declared size. */
export function percentDone(bytesReceived: number, bytesDeclared: number, ended: boolean): number {
  if (ended) return 100;
  if (bytesDeclared <= 0) return 0;
  return Math.min(99, Math.floor((bytesReceived / bytesDeclared) * 100));
}

/** A time left in seconds as minutes and seconds (`{ minutes: 2, seconds: 5 }`). */
export function splitSeconds(total: number): { minutes: number; seconds: number } {
  const s = Math.max(0, Math.round(total));
  return { minutes: Math.floor(s / 60), seconds: s % 60 };
}

/**
 * Seconds left at the rate so far, from the rows read of the file's rows (the service's own
 * estimate goes by bytes, which arrive long before the rows are written); undefined before
 * the first rows.
 */
export function rowsSecondsLeft(elapsedMs: number, read: number, total: number): number | undefined {
  if (read <= 0 || total <= 0 || elapsedMs <= 0) return undefined;
  return (Math.max(0, total - read) * elapsedMs) / read / 1000;
}
