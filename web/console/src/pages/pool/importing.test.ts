import { describe, expect, it } from "vitest";
import { parseCsv } from "./csv";
import {
  errorsCsv,
  guessField,
  isImportField,
  importUrl,
  mappingIsIdentity,
  newRequestId,
  percentDone,
  rebuildCsv,
  refusedRowsCsv,
  repeatedFields,
  rowsSecondsLeft,
  splitSeconds,
} from "./importing";

describe("the column mapping", () => {
  it("takes field names as they are and guesses common headers", () => {
    expect(guessField("name")).toBe("name");
    expect(guessField(" Phone ")).toBe("phone");
    expect(guessField("contact.name")).toBe("contact.name");
    expect(guessField("客户名称")).toBe("name");
    expect(guessField("手机")).toBe("mobile");
    expect(guessField("Teléfono")).toBe("phone");
    expect(guessField("colour")).toBe("");
  });

  it("knows the fields a column may feed", () => {
    expect(isImportField("contact.email")).toBe(true);
    expect(isImportField("owner_id")).toBe(false);
  });

  it("finds a field chosen twice", () => {
    expect(repeatedFields(["name", "phone", "name", ""])).toEqual(["name"]);
    expect(repeatedFields(["name", "", ""])).toEqual([]);
  });

  it("sends the file as it is only when every header is already its field", () => {
    expect(mappingIsIdentity(["name", "phone"], ["name", "phone"])).toBe(true);
    expect(mappingIsIdentity(["名称", "phone"], ["name", "phone"])).toBe(false);
    expect(mappingIsIdentity(["name", "colour"], ["name", ""])).toBe(false);
  });

  it("rebuilds the file with field names, mapped columns only, rows in place", () => {
    const text = '\ufeff客户名称,颜色,手机\r\n"深圳 ""甲"" 公司",红,13800138000\r\n\r\n乙,"多\r\n行",\r\n';
    const rebuilt = rebuildCsv(text, ["name", "", "mobile"]);
    expect(parseCsv(rebuilt).records).toEqual([
      ["name", "mobile"],
      ['深圳 "甲" 公司', "13800138000"],
      ["", ""],
      ["乙", ""],
    ]);
  });
});

describe("the upload", () => {
  it("puts the options in the query string the gateway reads", () => {
    const url = importUrl({
      requestId: "r-1",
      mode: "IMPORT_MODE_UPDATE",
      defaultKind: "CUSTOMER_KIND_INDIVIDUAL",
      sha256: "ab".repeat(32),
    });
    const [path, query] = url.split("?");
    expect(path).toBe("/v1/customers:import");
    const params = new URLSearchParams(query);
    expect(params.get("options.requestId")).toBe("r-1");
    expect(params.get("options.mode")).toBe("IMPORT_MODE_UPDATE");
    expect(params.get("options.defaultKind")).toBe("CUSTOMER_KIND_INDIVIDUAL");
    expect(params.get("options.declared.sha256")).toBe("ab".repeat(32));
  });

  it("leaves out the options not chosen", () => {
    expect(importUrl({ requestId: "r-2", mode: "", defaultKind: "", sha256: "" })).toBe(
      "/v1/customers:import?options.requestId=r-2",
    );
  });

  it("makes version-4 UUIDs without crypto.randomUUID", () => {
    const id = newRequestId((b) => b.fill(0xff));
    expect(id).toBe("ffffffff-ffff-4fff-bfff-ffffffffffff");
    expect(newRequestId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("reports progress from the bytes and the time left in minutes", () => {
    expect(percentDone(50, 200, false)).toBe(25);
    expect(percentDone(200, 200, false)).toBe(99);
    expect(percentDone(0, 0, false)).toBe(0);
    expect(percentDone(10, 200, true)).toBe(100);
    expect(splitSeconds(125.4)).toEqual({ minutes: 2, seconds: 5 });
    // 1,000 of 4,000 rows in 2 s: 6 s to go.
    expect(rowsSecondsLeft(2000, 1000, 4000)).toBe(6);
    expect(rowsSecondsLeft(2000, 0, 4000)).toBeUndefined();
  });
});

describe("the reports of refused rows", () => {
  const errors = [
    { row: 3, field: "phone", reason: "must be a phone number" },
    { row: 1, field: "name", reason: "is required" },
    { row: 3, field: "email", reason: "is not an email" },
  ];

  it("lists every error as CSV with the user's headings", () => {
    expect(errorsCsv(errors.slice(0, 1), ["行", "字段", "原因"])).toBe("行,字段,原因\r\n3,phone,must be a phone number\r\n");
  });

  it("gives back the refused rows of the file with why", () => {
    const text = "name,phone,email\r\n,1,\r\nok,2,\r\nbad,x,y\r\n";
    expect(parseCsv(refusedRowsCsv(text, errors, "error")).records).toEqual([
      ["name", "phone", "email", "error"],
      ["", "1", "", "name: is required"],
      ["bad", "x", "y", "phone: must be a phone number; email: is not an email"],
    ]);
  });
});
