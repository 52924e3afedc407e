// The pipeline board's logic, kept apart from React: deals grouped into their stages' columns,
// each column's count and exact sum (money is a decimal string, never a float), and the
// optimistic move of a card with the means to put it back when the service refuses.

export interface Money {
  currencyCode: string;
  amount: string;
}

/** What the board needs of a deal. */
export interface BoardCard {
  id: string;
  stageId: string;
  expectedAmount?: Money;
}

/** The cards of each stage, in the stages' order; cards of unknown stages are left out. */
export function groupByStage<T extends BoardCard>(stageIds: string[], cards: T[]): Map<string, T[]> {
  const columns = new Map<string, T[]>(stageIds.map((id) => [id, []]));
  for (const card of cards) columns.get(card.stageId)?.push(card);
  return columns;
}

const SCALE = 4;

/** A decimal string as an integer count of 1/10^4 (the contracts' precision). */
export function toUnits(amount: string): bigint {
  const text = amount.trim();
  if (!/^-?\d+(\.\d+)?$/.test(text)) return 0n;
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = (negative ? text.slice(1) : text).split(".");
  const units = BigInt(whole) * 10n ** BigInt(SCALE) + BigInt((fraction + "0000").slice(0, SCALE));
  return negative ? -units : units;
}

/** Units back to a decimal string with two to four places ("1234.50", "0.1250"). */
export function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / 10n ** BigInt(SCALE);
  let fraction = (abs % 10n ** BigInt(SCALE)).toString().padStart(SCALE, "0");
  while (fraction.length > 2 && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** The exact sum of the amounts, one total per currency (in order of first appearance). */
export function sumByCurrency(amounts: (Money | undefined)[]): Money[] {
  const totals = new Map<string, bigint>();
  for (const m of amounts) {
    if (!m || !m.currencyCode) continue;
    totals.set(m.currencyCode, (totals.get(m.currencyCode) ?? 0n) + toUnits(m.amount));
  }
  return [...totals].map(([currencyCode, units]) => ({ currencyCode, amount: fromUnits(units) }));
}

/** A column's heading figures. */
export function columnTotals<T extends BoardCard>(cards: T[]): { count: number; sums: Money[] } {
  return { count: cards.length, sums: sumByCurrency(cards.map((c) => c.expectedAmount)) };
}

/** An optimistic move: the cards as they will be, and the cards as they were (to put back). */
export interface Move<T extends BoardCard> {
  next: T[];
  previous: T[];
  /** The card as it was before the move; undefined when the move changes nothing. */
  moved: T | undefined;
}

/** Moves card `id` to `stageId` (nothing moves when it is unknown or already there). */
export function moveCard<T extends BoardCard>(cards: T[], id: string, stageId: string): Move<T> {
  const moved = cards.find((c) => c.id === id);
  if (!moved || moved.stageId === stageId) return { next: cards, previous: cards, moved: undefined };
  return {
    next: cards.map((c) => (c.id === id ? { ...c, stageId } : c)),
    previous: cards,
    moved,
  };
}

/**
 * The refusal's rollback: the card is put back where it was in `current` (other cards that
 * changed meanwhile are kept as they are now).
 */
export function rollback<T extends BoardCard>(current: T[], move: Move<T>): T[] {
  const was = move.moved;
  if (!was) return current;
  return current.map((c) => (c.id === was.id ? was : c));
}

/** The service's answer replaces the optimistic card (new etag, probability, stage time). */
export function settle<T extends BoardCard>(current: T[], saved: T): T[] {
  return current.map((c) => (c.id === saved.id ? saved : c));
}
