// The arithmetic behind "My day": the browser's offset from UTC (so the service's "today" is the
// user's), the end of the user's day, which leads are due, the counts in the section headings,
// and the order of this week's birthdays.

/** Minutes east of UTC at `at` in the browser's time zone (UTC+8 → 480, UTC−5 → −300). */
export function utcOffsetMinutes(at: Date = new Date()): number {
  // getTimezoneOffset is minutes *behind* UTC; `|| 0` turns −0 into 0.
  return -at.getTimezoneOffset() || 0;
}

/** The last millisecond of the day containing `at`, in a zone `offsetMinutes` east of UTC. */
export function endOfDay(at: Date, offsetMinutes: number): Date {
  const local = at.getTime() + offsetMinutes * 60_000;
  const dayMs = 24 * 3600_000;
  const localMidnightAfter = Math.floor(local / dayMs) * dayMs + dayMs;
  return new Date(localMidnightAfter - offsetMinutes * 60_000 - 1);
}

/** What a lead's follow-up needs from the lead (the generated Lead has more). */
export interface FollowedUp {
  id: string;
  nextFollowUpTime?: Date;
}

/**
 * The leads whose next follow-up is due by the end of the user's day (overdue ones included),
 * the most overdue first. Leads without a next follow-up are not due.
 */
export function dueLeads<T extends FollowedUp>(leads: T[], now: Date, offsetMinutes: number): T[] {
  const until = endOfDay(now, offsetMinutes).getTime();
  return leads
    .filter((l) => l.nextFollowUpTime !== undefined && l.nextFollowUpTime.getTime() <= until)
    .sort((a, b) => a.nextFollowUpTime!.getTime() - b.nextFollowUpTime!.getTime() || a.id.localeCompare(b.id));
}

/**
 * The ListLeads filter for the leads due by the end of the user's day (`next_follow_up_time`
 * before the next midnight; a lead without a next follow-up matches no comparison).
 */
export function dueBy(now: Date, offsetMinutes: number): string {
  const midnight = new Date(endOfDay(now, offsetMinutes).getTime() + 1);
  return `next_follow_up_time < "${midnight.toISOString().replace(/\.\d{3}Z$/, "Z")}"`;
}

/** The count shown in a section heading: exact, or "50+" while more pages remain. */
export function countLabel(count: number, more: boolean, format: (n: number) => string = String): string {
  return more ? `${format(count)}+` : format(count);
}

/** Month and day of a birthday written `YYYY-MM-DD` or `--MM-DD`; undefined when unreadable. */
export function monthDay(birthday: string): { month: number; day: number } | undefined {
  const m = /^(?:\d{4}|--)-?(\d{2})-(\d{2})$/.exec(birthday.trim());
  if (!m) return undefined;
  const month = Number(m[1]);
  const day = Number(m[2]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return { month, day };
}

/**
 * The date this year's birthday falls on in the week of `now` (Monday to Sunday, the week the
 * service lists), so a birthday can be shown as a date and the list ordered by it. Near new
 * year the week spans two years: the birthday is put in whichever year lands it in the week.
 */
export function birthdayThisWeek(birthday: string, now: Date): Date | undefined {
  const md = monthDay(birthday);
  if (!md) return undefined;
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  const sunday = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + 6);
  for (const year of [monday.getFullYear(), sunday.getFullYear()]) {
    const date = new Date(year, md.month - 1, md.day);
    if (date >= monday && date <= sunday) return date;
  }
  return new Date(now.getFullYear(), md.month - 1, md.day);
}

/** What a birthday line needs. */
export interface BirthdayLine {
  key: string;
  name: string;
  birthday: string;
}

/** Birthday lines in the order of the week, then by name; unreadable dates last. */
export function sortBirthdays<T extends BirthdayLine>(lines: T[], now: Date): T[] {
  const at = (l: T) => birthdayThisWeek(l.birthday, now)?.getTime() ?? Number.MAX_SAFE_INTEGER;
  return [...lines].sort((a, b) => at(a) - at(b) || a.name.localeCompare(b.name));
}

/** The owner filter of a sales list: the caller's own records, or everyone in scope (team). */
export function ownerFilter(team: boolean, employeeId: string): string {
  return team ? "" : `owner_id = ${JSON.stringify(employeeId)}`;
}

/** Leads still being worked (the ones a follow-up is for), as a ListLeads filter. */
export const OPEN_LEADS = 'status = "new" OR status = "contacting" OR status = "qualified"';

/** Two filters joined so both hold. */
export function andFilters(...filters: string[]): string {
  const parts = filters.filter((f) => f.trim() !== "");
  if (parts.length <= 1) return parts[0] ?? "";
  return parts.map((f) => `(${f})`).join(" AND ");
}
