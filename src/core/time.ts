/** Where the services read the time from; tests pass a controllable one. */
export type Clock = () => number;

/** The wall clock, in milliseconds since the epoch. */
export const systemClock: Clock = Date.now;
