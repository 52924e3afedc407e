// CSV as the import reads it (RFC 4180: commas, double quotes doubled inside quoted fields,
// CRLF or LF between records, an optional UTF-8 byte-order mark) and as the console writes it
// (the error report, the refused rows, a file rebuilt with the chosen column mapping).

export interface Parsed {
  /** The records, header first; each a list of fields. */
  records: string[][];
  /** Whether the text went on past the records read (a preview stopped at its limit). */
  truncated: boolean;
}

/** Parses `text` into records; stops after `limit` records when given. */
export function parseCsv(text: string, limit = Infinity): Parsed {
  const records: string[][] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let started = false; // whether the current record has any character
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      started = true;
      i++;
      continue;
    }
    if (c === ",") {
      record.push(field);
      field = "";
      started = true;
      i++;
      continue;
    }
    if (c === "\r" || c === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      started = false;
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      if (records.length >= limit) return { records, truncated: i < n };
      continue;
    }
    field += c;
    started = true;
    i++;
  }
  if (started || field !== "") {
    record.push(field);
    records.push(record);
  }
  return { records, truncated: false };
}

/** One field as CSV writes it: quoted when it holds a comma, a quote, a line break or edge spaces. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Records as CSV text, CRLF between records, ending with a line break. */
export function toCsv(records: string[][]): string {
  return records.map((r) => r.map(csvField).join(",")).join("\r\n") + (records.length ? "\r\n" : "");
}

/** Whether a record is only empty fields (a blank line). */
export function isBlank(record: string[]): boolean {
  return record.every((f) => f === "");
}
