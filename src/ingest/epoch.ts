/** Epoch-ms timestamps must fall in [2000-01-01, 2100-01-01): catches seconds-instead-of-ms and garbage. */
export const MIN_EPOCH_MS = 946_684_800_000;
export const MAX_EPOCH_MS = 4_102_444_800_000;
