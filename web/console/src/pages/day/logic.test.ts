import { describe, expect, it } from "vitest";
import {
  andFilters,
  birthdayThisWeek,
  countLabel,
  dueBy,
  dueLeads,
  endOfDay,
  monthDay,
  ownerFilter,
  sortBirthdays,
  utcOffsetMinutes,
} from "./logic";

describe("the user's day", () => {
  it("gives the offset east of UTC as the service takes it", () => {
    const at = new Date("2026-12-04T10:00:00Z");
    expect(utcOffsetMinutes(at)).toBe(-at.getTimezoneOffset() || 0);
    expect(Object.is(utcOffsetMinutes(at), -0)).toBe(false);
  });

  it("ends the day at the user's midnight, not UTC's", () => {
    // 20:00 UTC on the 4th is 04:00 on the 5th in Shanghai (UTC+8).
    const at = new Date("2026-12-04T20:00:00Z");
    expect(endOfDay(at, 480).toISOString()).toBe("2026-12-05T15:59:59.999Z");
    expect(endOfDay(at, 0).toISOString()).toBe("2026-12-04T23:59:59.999Z");
    // 02:00 UTC on the 5th is 21:00 on the 4th in New York (UTC−5).
    expect(endOfDay(new Date("2026-12-05T02:00:00Z"), -300).toISOString()).toBe("2026-12-05T04:59:59.999Z");
  });

  it("keeps the leads due today or overdue, most overdue first", () => {
    const now = new Date("2026-12-04T09:00:00Z");
    const leads = [
      { id: "later", nextFollowUpTime: new Date("2026-12-06T09:00:00Z") },
      { id: "tonight", nextFollowUpTime: new Date("2026-12-04T23:00:00Z") },
      { id: "none" },
      { id: "overdue", nextFollowUpTime: new Date("2026-11-30T09:00:00Z") },
    ];
    expect(dueLeads(leads, now, 0).map((l) => l.id)).toEqual(["overdue", "tonight"]);
    // In Shanghai, 23:00 UTC is already tomorrow.
    expect(dueLeads(leads, now, 480).map((l) => l.id)).toEqual(["overdue"]);
  });

  it("counts a section, marking that more pages remain", () => {
    expect(countLabel(3, false)).toBe("3");
    expect(countLabel(50, true)).toBe("50+");
    expect(countLabel(1200, true, (n) => n.toLocaleString("en-US"))).toBe("1,200+");
  });
});

describe("birthdays this week", () => {
  it("reads both birthday forms", () => {
    expect(monthDay("1990-12-05")).toEqual({ month: 12, day: 5 });
    expect(monthDay("--02-29")).toEqual({ month: 2, day: 29 });
    expect(monthDay("12/05")).toBeUndefined();
    expect(monthDay("1990-13-01")).toBeUndefined();
  });

  it("puts a birthday in the current Monday-to-Sunday week, across new year", () => {
    // Wednesday 31 December 2025: the week runs Monday 29 Dec to Sunday 4 Jan 2026.
    const now = new Date(2025, 11, 31, 12);
    expect(birthdayThisWeek("--01-02", now)).toEqual(new Date(2026, 0, 2));
    expect(birthdayThisWeek("1980-12-29", now)).toEqual(new Date(2025, 11, 29));
  });

  it("orders the week's birthdays by day, then name", () => {
    const now = new Date(2026, 11, 2, 12); // Wednesday 2 December 2026
    const lines = [
      { key: "a", name: "王五", birthday: "--12-06" },
      { key: "b", name: "Ana", birthday: "1990-11-30" },
      { key: "c", name: "Bob", birthday: "bad" },
      { key: "d", name: "Ada", birthday: "--12-06" },
    ];
    expect(sortBirthdays(lines, now).map((l) => l.key)).toEqual(["b", "d", "a", "c"]);
  });
});

describe("sales list filters", () => {
  it("narrows to the caller's own records unless the team is asked for", () => {
    expect(ownerFilter(false, "e-1")).toBe('owner_id = "e-1"');
    expect(ownerFilter(true, "e-1")).toBe("");
  });

  it("joins filters, leaving out empty ones", () => {
    expect(andFilters('status = "new"', "")).toBe('status = "new"');
    expect(andFilters('a = "1" OR a = "2"', 'owner_id = "x"')).toBe('(a = "1" OR a = "2") AND (owner_id = "x")');
    expect(andFilters("", "")).toBe("");
  });
});

describe("the leads due today", () => {
  it("asks for next follow-ups before the user's next midnight", () => {
    const now = new Date("2026-12-04T10:30:00Z");
    expect(dueBy(now, 0)).toBe('next_follow_up_time < "2026-12-05T00:00:00Z"');
    // UTC+8: the user's day ends at 16:00 UTC.
    expect(dueBy(now, 480)).toBe('next_follow_up_time < "2026-12-04T16:00:00Z"');
  });
});
