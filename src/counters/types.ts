import type { LimitConfig } from '../core/limits/types.ts';
import type { RefillSchedule } from '../core/refill.ts';
import type { Soon } from '../core/soon.ts';

/** One rate limit to apply in a consume: which window, by which rule, and what to charge. */
export interface LimitRequest {
  /**
   * The window's id, e.g. `ws:<workspaceId>:key:<keyId>:<name>`; every request naming it shares
   * one window. Name each window at most once per consume: two limits naming one are each
   * decided against the window as it stood before either, so together they may pass its limit.
   */
  key: string;
  /** The limit's name, reported back as it is. */
  name: string;
  config: LimitConfig;
  /** Integer, 0 or more; 0 checks the limit without spending anything. */
  cost: number;
  /** Counted and reported like an enforced limit, but never denying. */
  shadow: boolean;
}

/** A credit balance as the store last had it. */
export interface StoredCredits {
  remaining: number;
  /** Bumped by every change made by hand; charges leave it alone. */
  version: number;
  /** When it was last refilled or set by hand. */
  refilledAt: number;
  refill: RefillSchedule | null;
}

/** The credits one consume charges. */
export interface CreditRequest {
  /** The balance's id; every key drawing on it shares what the counters hold for it. */
  key: string;
  /** Integer, 0 or more; a balance with less than `cost` left denies. */
  cost: number;
  /**
   * The balance as read from the store. The counters hold a live balance per key and take this
   * one instead when its version is newer (a change made by hand), or the lower of the two when
   * the versions are equal (the store may have heard of charges made on other nodes).
   */
  stored: StoredCredits;
}

/** The rate limits and the credit charge of one verification, applied at one instant. */
export interface ConsumeRequest {
  limits: readonly LimitRequest[];
  credits?: CreditRequest | undefined;
  /** Milliseconds since the epoch. */
  now: number;
}

/** How a balance stands after a consume. */
export interface CreditResult {
  remaining: number;
  /** True when the balance holds less than the cost, so the request is denied. */
  exceeded: boolean;
}

/** How one limit stands after a consume, in the words of the verify response. */
export interface LimitResult {
  name: string;
  limit: number;
  duration: number;
  remaining: number;
  /** When `remaining` next grows; the consume's `now` when nothing is spent. */
  resetAt: number;
  /** True when this limit would deny the request, shadow limits included. */
  exceeded: boolean;
}

/** One charge a consume made, as plain data so that any backend can carry it. */
export type Charge = LimitCharge | CreditsCharge;

export interface LimitCharge {
  readonly kind: 'limit';
  readonly key: string;
  readonly config: LimitConfig;
  readonly cost: number;
  /** When the charge was booked, which tells a sliding window where it sits. */
  readonly at: number;
}

export interface CreditsCharge {
  readonly kind: 'credits';
  readonly key: string;
  readonly cost: number;
  /** The balance's version when charged: a refund after a change by hand gives nothing back. */
  readonly version: number;
}

/** Everything a consume charged, for `refund`; empty when it charged nothing. */
export type Reservation = readonly Charge[];

/** Whether the request may go on, each limit's and the balance's standing, and what was charged. */
export interface ConsumeResult {
  allowed: boolean;
  limits: LimitResult[];
  /** `null` when the request charged no balance. */
  credits: CreditResult | null;
  reservation: Reservation;
}

/**
 * Hot rate-limit state, behind one interface: in memory for one node, or in a shared store for
 * many, where each `consume` and each `refund` is one atomic step (one round trip).
 */
export interface Counters {
  /**
   * One atomic step: when every enforced (non-shadow) limit allows and the balance holds the
   * cost, charge the balance and every limit that allows — shadow ones included, so a shadow
   * limit counts exactly what enforcing it would and its `exceeded` tells what enforcing it would
   * deny; otherwise charge nothing anywhere. Counters held in this process answer at once;
   * counters held elsewhere answer a promise.
   */
  consume(request: ConsumeRequest): Soon<ConsumeResult>;
  /**
   * Give back what a consume charged, when its request failed later (its charge could not be
   * made durable). A charge that has stopped counting meanwhile (its window moved on, its
   * balance was set by hand) gives nothing back.
   */
  refund(reservation: Reservation): Promise<void>;
  /** Let go of everything held; the counters are not used after. */
  close(): Promise<void>;
}
