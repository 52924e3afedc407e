import { describe, expect, it } from "vitest";
import { columnTotals, fromUnits, groupByStage, moveCard, rollback, settle, sumByCurrency, toUnits } from "./board";

const cny = (amount: string) => ({ currencyCode: "CNY", amount });
const cards = [
  { id: "a", stageId: "s1", expectedAmount: cny("1000.50") },
  { id: "b", stageId: "s2", expectedAmount: cny("0.1") },
  { id: "c", stageId: "s1", expectedAmount: cny("2000") },
  { id: "d", stageId: "gone" },
];

describe("the board", () => {
  it("groups cards into their stages' columns in stage order", () => {
    const columns = groupByStage(["s1", "s2", "s3"], cards);
    expect([...columns.keys()]).toEqual(["s1", "s2", "s3"]);
    expect(columns.get("s1")?.map((c) => c.id)).toEqual(["a", "c"]);
    expect(columns.get("s3")).toEqual([]);
  });

  it("sums decimal strings exactly, per currency", () => {
    expect(toUnits("1234.5")).toBe(12345000n);
    expect(toUnits("-0.0001")).toBe(-1n);
    expect(fromUnits(12345000n)).toBe("1234.50");
    expect(fromUnits(1250n)).toBe("0.125");
    expect(sumByCurrency([cny("0.1"), cny("0.2"), { currencyCode: "USD", amount: "5" }, undefined])).toEqual([
      cny("0.30"),
      { currencyCode: "USD", amount: "5.00" },
    ]);
    expect(columnTotals(groupByStage(["s1"], cards).get("s1") ?? [])).toEqual({ count: 2, sums: [cny("3000.50")] });
  });

  it("moves a card optimistically and puts it back on refusal", () => {
    const move = moveCard(cards, "a", "s2");
    expect(move.next.find((c) => c.id === "a")?.stageId).toBe("s2");
    expect(cards.find((c) => c.id === "a")?.stageId).toBe("s1");
    // Another card changed meanwhile: the rollback keeps that change.
    const meanwhile = move.next.map((c) => (c.id === "b" ? { ...c, stageId: "s3" } : c));
    const back = rollback(meanwhile, move);
    expect(back.find((c) => c.id === "a")?.stageId).toBe("s1");
    expect(back.find((c) => c.id === "b")?.stageId).toBe("s3");
  });

  it("does nothing for a move to the same stage or of an unknown card", () => {
    expect(moveCard(cards, "a", "s1").moved).toBeUndefined();
    expect(moveCard(cards, "x", "s1").next).toBe(cards);
    expect(rollback(cards, moveCard(cards, "x", "s1"))).toBe(cards);
  });

  it("takes the service's card once the move is saved", () => {
    const move = moveCard(cards, "a", "s2");
    const saved = settle(move.next, { id: "a", stageId: "s2", expectedAmount: cny("1000.50") });
    expect(saved.find((c) => c.id === "a")).toEqual({ id: "a", stageId: "s2", expectedAmount: cny("1000.50") });
  });
});
