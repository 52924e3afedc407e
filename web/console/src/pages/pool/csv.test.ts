import { describe, expect, it } from "vitest";
import { csvField, parseCsv, toCsv } from "./csv";

describe("reading CSV", () => {
  it("reads plain records with LF or CRLF, with or without a last line break", () => {
    expect(parseCsv("name,phone\nAcme,123\n").records).toEqual([["name", "phone"], ["Acme", "123"]]);
    expect(parseCsv("name,phone\r\nAcme,123\r\nBeta,456").records).toEqual([
      ["name", "phone"],
      ["Acme", "123"],
      ["Beta", "456"],
    ]);
  });

  it("reads quoted fields: commas, doubled quotes and line breaks inside", () => {
    const text = 'name,remark\r\n"Acme, Inc.","He said ""hi""\r\nthen left"\r\n"",x\r\n';
    expect(parseCsv(text).records).toEqual([
      ["name", "remark"],
      ["Acme, Inc.", 'He said "hi"\r\nthen left'],
      ["", "x"],
    ]);
  });

  it("drops the UTF-8 byte-order mark and keeps Chinese text", () => {
    const text = "\ufeff名称,联系人,备注\r\n深圳市腾飞科技有限公司,张三,\"重要，优先\"\r\n";
    expect(parseCsv(text).records).toEqual([
      ["名称", "联系人", "备注"],
      ["深圳市腾飞科技有限公司", "张三", "重要，优先"],
    ]);
  });

  it("keeps empty fields and blank lines in place", () => {
    expect(parseCsv("a,b,\n\n,,\n").records).toEqual([["a", "b", ""], [""], ["", "", ""]]);
  });

  it("stops at a limit for a preview and says so", () => {
    const preview = parseCsv("h\n1\n2\n3\n", 2);
    expect(preview.records).toEqual([["h"], ["1"]]);
    expect(preview.truncated).toBe(true);
    expect(parseCsv("h\n1\n", 2).truncated).toBe(false);
  });
});

describe("writing CSV", () => {
  it("quotes only what needs it", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "x"')).toBe('"say ""x"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField(" edge")).toBe('" edge"');
  });

  it("writes what it reads back", () => {
    const records = [["名称", "remark"], ["Acme, Inc.", 'q "x"\nline'], ["", ""]];
    expect(parseCsv(toCsv(records)).records).toEqual(records);
  });
});
