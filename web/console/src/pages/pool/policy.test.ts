import { describe, expect, it } from "vitest";
import { policyFigures } from "./policy";

describe("the pool rules line", () => {
  it("names the caps and days that apply and leaves out zeros", () => {
    const figures = policyFigures({
      totalOwnedCap: 200,
      reclaimCooldownDays: 30,
      lockCap: 10,
      defaultRule: { ownedCap: 0, noFollowUpDays: 90, noOrderDays: 0 },
      levelRules: [{ levelCode: "A", ownedCap: 20, noFollowUpDays: 0, noOrderDays: 0 }],
    });
    expect(figures.map((f) => f.key)).toEqual([
      "pool.policy.cap",
      "pool.policy.levelCap",
      "pool.policy.cooldown",
      "pool.policy.noFollowUp",
      "pool.policy.locks",
    ]);
    expect(figures[1].values).toEqual({ level: "A", n: "20" });
  });

  it("says locking is off when the lock cap is zero", () => {
    const figures = policyFigures({ totalOwnedCap: 0, reclaimCooldownDays: 0, lockCap: 0, levelRules: [] });
    expect(figures).toEqual([{ key: "pool.policy.noLocks", values: {} }]);
  });
});
