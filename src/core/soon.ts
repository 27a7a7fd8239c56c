/**
 * A value known at once, or once some I/O is done. Hot paths answer from memory without a
 * promise, and await only when they had to wait.
 */
export type Soon<T> = T | Promise<T>;
