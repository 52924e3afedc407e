import { beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { DuplicateMatchKind, DuplicateMatchSchema, FollowUpMethod, OwnerChangeReason } from "../../gen/crm/customers/v1/customers_pb.js";
import { loadAreas, translate } from "../../i18n/locale";
import { duplicateLine, duplicateMatches, fieldLabel, matchKey, methodKey, reasonKey } from "./labels";
import { exportUrl, fileNameOf } from "./export";
import { followUpRequest, tomorrowAt } from "./followUp";

// The screens' texts load beside the signed-in console; here, before the tests.
beforeAll(() => loadAreas());

const en = (key: string, values?: Record<string, string>) => translate("en", key, values);
const zh = (key: string, values?: Record<string, string>) => translate("zh", key, values);

describe("the duplicate warning", () => {
  const owned = create(DuplicateMatchSchema, { customerId: "c1", name: "杭州测试科技有限公司", kind: DuplicateMatchKind.NAME, ownerId: "e1" });
  const pooled = create(DuplicateMatchSchema, { customerId: "c2", name: "杭州测试", kind: DuplicateMatchKind.SIMILAR_NAME, inPool: true });
  const names = (id: string) => ({ e1: "Wang Fang" })[id] ?? id;

  it("names the customer and its owner by name", () => {
    expect(duplicateLine(en, owned, names)).toBe("杭州测试科技有限公司 — owned by Wang Fang (matched on name)");
    expect(duplicateLine(zh, owned, names)).toBe("杭州测试科技有限公司 — 负责人 Wang Fang（匹配：名称）");
  });

  it("says when it is in the public pool", () => {
    expect(duplicateLine(en, pooled, names)).toBe("杭州测试 — in the public pool (matched on similar name)");
  });

  it("lists exact matches first, each customer once", () => {
    expect(duplicateMatches([owned], [pooled, owned]).map((m) => m.customerId)).toEqual(["c1", "c2"]);
  });
});

describe("labels", () => {
  it("has a text for every enum value and history field in every language", () => {
    const keys = [
      ...Object.values(DuplicateMatchKind).filter((v) => typeof v === "number").map((v) => matchKey(v as DuplicateMatchKind)),
      ...Object.values(FollowUpMethod).filter((v) => typeof v === "number").map((v) => methodKey(v as FollowUpMethod)),
      ...Object.values(OwnerChangeReason).filter((v) => typeof v === "number").map((v) => reasonKey(v as OwnerChangeReason)),
    ];
    for (const key of keys) expect(en(key)).not.toBe(key);
    expect(fieldLabel(en, "level_code")).toBe("Level");
    expect(fieldLabel(zh, "region.city")).toBe("城市");
    expect(fieldLabel(en, "custom_fields")).toBe("custom_fields");
  });
});

describe("the export", () => {
  it("asks for the current search", () => {
    expect(exportUrl("")).toBe("/v1/customers:export");
    expect(exportUrl("杭州 科技")).toBe("/v1/customers:export?query=%E6%9D%AD%E5%B7%9E+%E7%A7%91%E6%8A%80");
  });

  it("keeps the gateway's file name", () => {
    expect(fileNameOf('attachment; filename="customers.csv"')).toBe("customers.csv");
    expect(fileNameOf(null)).toBe("customers.csv");
  });
});

describe("a follow-up", () => {
  it("sends the method, the trimmed text and the next time", () => {
    const next = tomorrowAt(new Date(2026, 11, 31, 15, 30), 10);
    expect(next).toEqual(new Date(2027, 0, 1, 10, 0));
    const request = followUpRequest("c1", { method: FollowUpMethod.PHONE, summary: " called ", nextContactTime: { toDate: () => next } }, "r1");
    expect(request.requestId).toBe("r1");
    expect(request.followUp).toMatchObject({ customerId: "c1", method: FollowUpMethod.PHONE, summary: "called" });
    expect(request.followUp?.nextContactTime?.seconds).toBe(BigInt(next.getTime() / 1000));
  });

  it("leaves the next time out when none is picked", () => {
    expect(followUpRequest("c1", { method: FollowUpMethod.VISIT, summary: "x", nextContactTime: null }, "r").followUp?.nextContactTime).toBeUndefined();
  });
});

describe("history values", () => {
  it("words the history's enum values and actions", async () => {
    const { actionKey, historyValueKey } = await import("./labels");
    expect(en(historyValueKey("kind", "company") ?? "")).toBe("Company");
    expect(zh(historyValueKey("status", "potential") ?? "")).toBe("潜在");
    expect(historyValueKey("level_code", "A")).toBeNull();
    expect(en(actionKey("update") ?? "")).toBe("Edited");
    expect(actionKey("something_new")).toBeNull();
  });
});
