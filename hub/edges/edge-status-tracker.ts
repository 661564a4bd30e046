import type { Clock } from '../../common/clock';
import { EdgeState, type Counters, type EdgeStatus, type ExporterStatus } from '../../proto/codec';
import type { EdgeStateName, EdgeStatusView as EdgeStatusWire } from '../../common/api/edges';

export type { EdgeStateName };

/**
 * The API's view (common/api/edges.ts is the source of its fields), holding the edge's own proto
 * counters and exporters: they carry more than the wire mirrors declare (e.g. interfaceNames, which
 * interface-labels.ts and subject-routes.ts read).
 */
export interface EdgeStatusView extends Omit<EdgeStatusWire, 'counters' | 'exporters'> {
  counters: Counters | null;
  exporters: ExporterStatus[];
}

const STATE_NAMES: Record<number, EdgeStateName> = { [EdgeState.BIRTH]: 'birth', [EdgeState.ONLINE]: 'online', [EdgeState.OFFLINE]: 'offline' };

export interface EdgeStatusTrackerOptions {
  clock: Clock;
  /** An edge not heard from for this long counts as offline even without a death message. */
  staleAfterMs?: number;
}

/**
 * Edge liveness from the status topic (birth, heartbeat, death as the last will), Sparkplug-style:
 * every connect increments the edge's session counter, and a message from an OLDER session is
 * ignored, so a late last will of a dropped connection cannot mark the new session offline.
 * In memory: status is retained on the broker and edges heartbeat, so it rebuilds after a restart.
 */
export function createEdgeStatusTracker(options: EdgeStatusTrackerOptions) {
  const staleAfterMs = options.staleAfterMs ?? 5 * 60_000;
  const latest = new Map<string, { status: EdgeStatus; lastSeenMs: number }>();
  return {
    /**
     * Applies one status message of a known edge. `retained` messages are replays of the past (the
     * broker's copy on subscribe): their last-seen time is the edge's own timestamp, not now.
     */
    apply(status: EdgeStatus, opts: { retained?: boolean } = {}): 'applied' | 'ignored_older_session' {
      const current = latest.get(status.edgeId);
      if (current && status.session < current.status.session) return 'ignored_older_session';
      const nowMs = options.clock.nowMs();
      const lastSeenMs = opts.retained && status.atMs > 0 ? Math.min(status.atMs, nowMs) : nowMs;
      // A retained replay never moves last-seen backwards past what we already heard live.
      latest.set(status.edgeId, { status, lastSeenMs: Math.max(lastSeenMs, current && current.status.session === status.session ? current.lastSeenMs : 0) });
      return 'applied';
    },

    view(edgeId: string): EdgeStatusView {
      const entry = latest.get(edgeId);
      if (!entry) {
        return { state: 'unknown', online: false, lastSeenMs: null, session: null, softwareVersion: '', configVersion: 0, collectionPaused: false, counters: null, exporters: [] };
      }
      const { status, lastSeenMs } = entry;
      const state = STATE_NAMES[status.state] ?? 'unknown';
      return {
        state,
        online: state !== 'offline' && state !== 'unknown' && options.clock.nowMs() - lastSeenMs <= staleAfterMs,
        lastSeenMs,
        session: status.session,
        softwareVersion: status.softwareVersion,
        configVersion: status.configVersion,
        collectionPaused: status.collectionPaused,
        counters: status.counters ?? null,
        exporters: status.exporters,
      };
    },

    forget(edgeId: string): void {
      latest.delete(edgeId);
    },
  };
}

export type EdgeStatusTracker = ReturnType<typeof createEdgeStatusTracker>;
