/**
 * The ports through which hub modules use each other. Each is implemented by one module and
 * wired in create-hub.ts; tests pass fakes.
 */
import type { SeriesTotals } from '../common/api/series';

/** One 5-minute point of a subject's series (sums over every edge that reported it): the API's counters at a bucket. */
export interface SeriesPoint extends SeriesTotals {
  bucketStartSec: number;
}

export interface SubjectInfo {
  subjectId: string;
  kind: 'interface' | 'ip_group';
  label: string;
  firstSeenSec: number;
  lastSeenSec: number;
}

/** Implemented by hub/store (SeriesStore, series-store.ts: its contract). Points come back sorted, only buckets that have data. */
export interface SeriesReader {
  readSeries(operatorId: string, subjectId: string, fromSec: number, toSec: number): Promise<SeriesPoint[]>;
  listSubjects(operatorId: string): Promise<SubjectInfo[]>;
  /** Slots in [fromSec, toSec) for which at least one edge of the operator reported (coverage). */
  reportedBucketCount(operatorId: string, fromSec: number, toSec: number): Promise<number>;
  /**
   * Bulk read for the bill run (no point objects): the same data as readSeries over
   * [firstSlotSec, firstSlotSec + n * 300), ADDED into the caller's zeroed columns at index
   * (bucketStartSec - firstSlotSec) / 300, with reported[i] = 1 for each bucket that has data.
   * firstSlotSec is a multiple of 300.
   */
  readSlotColumns(operatorId: string, subjectId: string, firstSlotSec: number, n: number, into: SlotColumns): Promise<void>;
}

/** Per-slot byte columns of one subject over a span of n 5-minute slots (see readSlotColumns). */
export interface SlotColumns {
  bytesIn: Float64Array;
  bytesOut: Float64Array;
  reported: Uint8Array;
}

/**
 * Implemented by hub/commerce: may this operator's edges collect (trial running, add-on active…)?
 * Both answers come from the same collection window(s) of the operator, exact at any instant even
 * before a job has recorded an expiry; `reason` says why (shown to users and sent in acks).
 */
export interface CollectionPolicy {
  /** At one instant (the edge config's collection_paused flag). */
  collectionState(operatorId: string, atMs: number): Promise<{ allowed: boolean; reason?: string }>;
  /**
   * For each span [fromMs, toMs) (a 5-minute bucket), in order: allowed when collection was allowed
   * for ANY part of it, so the partial bucket in which a trial started, the add-on was activated or
   * collection stopped is stored; refused only when collection was paused for the whole span. All
   * spans from ONE read of the operator's state: a day of backlog is 288 buckets in one batch, and on
   * PostgreSQL a read per bucket was most of the ingest's cost.
   */
  collectionAllowedDuring(operatorId: string, spans: readonly CollectionSpan[]): Promise<CollectionAnswer[]>;
}

export interface CollectionSpan { fromMs: number; toMs: number }
export interface CollectionAnswer { allowed: boolean; reason?: string }

/** A policy's span answers from a one-span rule (fakes, and policies with nothing to read). */
export function eachSpan(rule: (operatorId: string, fromMs: number, toMs: number) => Promise<CollectionAnswer> | CollectionAnswer): CollectionPolicy['collectionAllowedDuring'] {
  return async (operatorId, spans) => Promise.all(spans.map((s) => rule(operatorId, s.fromMs, s.toMs)));
}

/** Implemented by hub/ingest: re-publish the retained config of every edge of an operator. */
export interface EdgeConfigPusher {
  pushConfigs(operatorId: string): Promise<void>;
}

export interface MailAttachment { filename: string; content: Uint8Array; contentType: string }
export interface MailMessage { to: string[]; subject: string; text: string; html?: string; attachments?: MailAttachment[] }

/** Implemented by hub/mail: SMTP when configured, else files in an outbox folder. */
export interface Mailer {
  send(message: MailMessage): Promise<{ id: string }>;
}
