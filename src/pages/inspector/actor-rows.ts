/**
 * The actor tree's rows: the root first, then conversations busiest first (a turn running, then
 * someone connected; `compareConversations`), each followed by its connections; idle
 * conversations folded away unless asked for or searched; a search on path, user or state.
 * Pure: the tree (actor-tree.ts) only renders what this returns.
 */
import { activityRank, compareConversations } from '../../inspector/actor-activity.js';
import type { ActorSummary } from '../../inspector/inspector-protocol.js';

/** One row of the flat list. */
export interface Row {
  path: string;
  depth: 0 | 1;
  /** For a conversation: its number of connections. */
  children?: number;
}

/** What decides which rows show. */
export interface RowOptions {
  /** Lower-case search text, '' for none. */
  filter: string;
  showIdle: boolean;
  /** Conversations whose connections are folded. */
  collapsed: ReadonlySet<string>;
}

/** A conversation without anyone in it and no turn running. */
export function isIdle(summary: ActorSummary): boolean {
  return summary.kind === 'conversation' && activityRank(summary) === 2;
}

/**
 * The rows to show, and how many idle conversations were folded away.
 *
 * @example
 * buildRows(actors, connectionsOf, { filter: '', showIdle: false, collapsed: new Set() })
 */
export function buildRows(
  actors: ReadonlyMap<string, ActorSummary>,
  connectionsOf: ReadonlyMap<string, ReadonlySet<string>>,
  { filter, showIdle, collapsed }: RowOptions,
): { rows: Row[]; foldedIdle: number } {
  const matches = (path: string) => {
    if (filter === '' || path.toLowerCase().includes(filter)) return true;
    const summary = actors.get(path);
    return (
      summary !== undefined &&
      (summary.state.toLowerCase().includes(filter) ||
        (summary.user_id?.toLowerCase().includes(filter) ?? false))
    );
  };
  const roots: string[] = [];
  const groups = new Map<string, ActorSummary | undefined>();
  for (const group of connectionsOf.keys()) groups.set(group, actors.get(group));
  for (const summary of actors.values()) {
    if (summary.kind === 'root') roots.push(summary.path);
    else if (summary.kind === 'conversation') groups.set(summary.path, summary);
  }
  const rows: Row[] = roots.sort().flatMap((path) => (matches(path) ? [{ path, depth: 0 }] : []));
  const ordered = [...groups].sort(([a, first], [b, second]) =>
    compareConversations(orderable(a, first), orderable(b, second)),
  );
  let foldedIdle = 0;
  for (const [group, summary] of ordered) {
    const connections = [...(connectionsOf.get(group) ?? [])].sort();
    const groupMatches = matches(group);
    const shown = groupMatches ? connections : connections.filter(matches);
    if (!groupMatches && shown.length === 0) continue;
    // Searching shows idle conversations too: a search is a request to see them.
    if (filter === '' && !showIdle && summary !== undefined && isIdle(summary)) {
      foldedIdle += 1;
      continue;
    }
    rows.push({ path: group, depth: 0, children: connections.length });
    if (filter === '' && collapsed.has(group)) continue;
    for (const path of shown) rows.push({ path, depth: 1 });
  }
  return { rows, foldedIdle };
}

/**
 * A group for ordering. One without a conversation summary (yet) holds connections, so it is
 * busy: it ranks first, as a root would.
 */
function orderable(path: string, summary: ActorSummary | undefined) {
  return summary ?? { path, kind: 'root' as const, activity: null };
}
