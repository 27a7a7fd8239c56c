import type { LimitConfig } from '../core/limits/types.ts';

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

/** The rate limits of one verification, applied at one instant. */
export interface ConsumeRequest {
  limits: readonly LimitRequest[];
  /** Milliseconds since the epoch. */
  now: number;
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
export interface Charge {
  readonly key: string;
  readonly config: LimitConfig;
  readonly cost: number;
  /** When the charge was booked, which tells a sliding window where it sits. */
  readonly at: number;
}

/** Everything a consume charged, for `refund`; empty when it charged nothing. */
export type Reservation = readonly Charge[];

/** Whether the request may go on, each limit's standing, and what was charged. */
export interface ConsumeResult {
  allowed: boolean;
  limits: LimitResult[];
  reservation: Reservation;
}

/**
 * Hot rate-limit state, behind one interface: in memory for one node, or in a shared store for
 * many, where each `consume` and each `refund` is one atomic step (one round trip).
 */
export interface Counters {
  /**
   * One atomic step: when every enforced (non-shadow) limit allows, charge every limit that
   * allows — shadow ones included, so a shadow limit counts exactly what enforcing it would and
   * its `exceeded` tells what enforcing it would deny; otherwise charge nothing.
   */
  consume(request: ConsumeRequest): Promise<ConsumeResult>;
  /**
   * Give back what a consume charged, when its request was denied later (e.g. for credits).
   * A charge that has stopped counting meanwhile (its window moved on) gives nothing back.
   */
  refund(reservation: Reservation): Promise<void>;
  /** Let go of everything held; the counters are not used after. */
  close(): Promise<void>;
}
