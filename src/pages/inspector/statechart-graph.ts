/**
 * Turns a machine's definition (XState's `toJSON()`, plus its `always` transitions) into an ELK
 * graph: nested compound states, an initial dot per compound state, transitions labelled with
 * their event, `always` or `after <delay>` and a named guard, and opposite transitions with the
 * same label merged into one two-headed edge. Transitions that ELK cannot route (into a state's
 * own children) and those that change no state are written inside their state as notes.
 */
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { textWidth } from './dom.js';

export const NAME_SIZE = 13;
export const NOTE_SIZE = 11;
export const LINE = 15;
const LABEL_SIZE = 11;

/** A transition as `toJSON()` writes it. */
export interface TransitionJson {
  eventType?: string | null;
  target?: unknown;
  guard?: unknown;
  delay?: number | string;
}

/** A state node as `toJSON()` writes it. */
export interface StateNodeJson {
  id: string;
  key: string;
  type?: string;
  order?: number;
  states?: Record<string, StateNodeJson>;
  transitions?: TransitionJson[];
  /** Added by the engine: `toJSON()` leaves eventless transitions out. */
  always?: TransitionJson[];
  initial?: { target?: string[] };
}

/** How a graph node is drawn. */
export type NodeInfo =
  | { kind: 'initial' }
  | { kind: 'any'; label: string }
  | { kind: 'atomic' | 'compound' | 'final'; label: string; notes: string[] };

/** What is known of an edge besides its route. */
export interface EdgeMeta {
  source: string;
  target: string;
  label: string;
  eventType: string;
  /** Drawn with a head at both ends: a pair of opposite transitions with the same label. */
  both: boolean;
}

/** An ELK graph and what drawing it needs. */
export interface StatechartGraph {
  machineId: string;
  info: Map<string, NodeInfo>;
  edgeMeta: Map<string, EdgeMeta>;
  /** state id → its children's ids */
  parents: Map<string, string[]>;
  /** Transitions of the whole machine that change no state. */
  rootNotes: string[];
  /** Transitions into a state's own child, written inside it instead of drawn as edges. */
  innerTransitions: InnerTransition[];
  elk: ElkNode;
}

/** A state id without its `#` (`#conversation.idle` → `conversation.idle`). */
export const strip = (target: unknown): string =>
  typeof target === 'string' ? target.replace(/^#/, '') : '';

function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null) {
    const type = (guard as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return '';
}

/** The label of a transition: its event, `always`, or `after <delay>`, with a named guard. */
export function transitionLabel(transition: TransitionJson): string {
  const eventType = transition.eventType;
  let name: string;
  if (eventType === '' || eventType === null || eventType === undefined) name = 'always';
  else if (transition.delay !== undefined || eventType.startsWith('xstate.after.')) {
    const delay = transition.delay ?? eventType.split('.')[2];
    name = `after ${typeof delay === 'number' ? `${String(delay)} ms` : String(delay)}`;
  } else name = eventType;
  const guard = guardName(transition.guard);
  return guard === '' ? name : `${name} [${guard}]`;
}

function transitionsOf(node: StateNodeJson): TransitionJson[] {
  return [
    ...(node.transitions ?? []),
    ...(node.always ?? []).map((transition) => ({ ...transition, eventType: '' })),
  ];
}

function targetsOf(transition: TransitionJson): string[] {
  const target = transition.target;
  const list: unknown[] = Array.isArray(target)
    ? target
    : target === undefined || target === null
      ? []
      : [target];
  return list.map((item) =>
    strip(typeof item === 'string' ? item : (item as { id?: unknown } | null)?.id),
  );
}

/** Counts repeated notes: `frame.received ×3`. */
export function countNotes(notes: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const note of notes) counts.set(note, (counts.get(note) ?? 0) + 1);
  return [...counts].map(([note, count]) => (count > 1 ? `${note} ×${String(count)}` : note));
}

/** A transition written inside its state (`turn.tool_result [endsLastToolCall] → thinking`). */
export interface InnerTransition {
  source: string;
  target: string;
  label: string;
  eventType: string;
}

interface RawEdge {
  source: string;
  target: string;
  label: string;
  eventType: string;
}

/** Builds the ELK graph of a machine definition, laid out towards `direction`. */
export function buildGraph(
  definition: StateNodeJson,
  direction: 'RIGHT' | 'DOWN',
): StatechartGraph {
  const machineId = definition.id;
  const info = new Map<string, NodeInfo>();
  const parents = new Map<string, string[]>();
  const raw: RawEdge[] = [];
  const innerTransitions: InnerTransition[] = [];
  const rootNotes: string[] = [];
  const isAncestor = (ancestor: string, id: string) => id.startsWith(`${ancestor}.`);

  function visit(node: StateNodeJson, isRoot: boolean): ElkNode[] | ElkNode {
    const children = Object.values(node.states ?? {}).sort(
      (a, b) => (a.order ?? 0) - (b.order ?? 0),
    );
    const notes: string[] = [];
    const source = isRoot ? `${machineId}::any` : node.id;
    let rootHasEdges = false;
    for (const transition of transitionsOf(node)) {
      const label = transitionLabel(transition);
      const targets = targetsOf(transition).filter(Boolean);
      if (targets.length === 0) {
        (isRoot ? rootNotes : notes).push(label);
        continue;
      }
      for (const target of targets) {
        // ELK cannot route an edge from a compound state into its own children: such a
        // transition is written inside the state instead.
        if (!isRoot && (isAncestor(node.id, target) || isAncestor(target, node.id))) {
          notes.push(`${label} → ${target.slice(node.id.length + 1) || target}`);
          innerTransitions.push({ source, target, label, eventType: transition.eventType ?? '' });
        } else {
          raw.push({ source, target, label, eventType: transition.eventType ?? '' });
          if (isRoot) rootHasEdges = true;
        }
      }
    }
    const elkChildren: ElkNode[] = [];
    const initial = node.initial?.target ?? [];
    if (children.length > 0 && initial.length > 0) {
      const id = `${node.id}::initial`;
      elkChildren.push({ id, width: 10, height: 10 });
      info.set(id, { kind: 'initial' });
      for (const target of initial) {
        raw.push({ source: id, target: strip(target), label: '', eventType: 'xstate.init' });
      }
    }
    for (const child of children) {
      const drawn = visit(child, false);
      if (!Array.isArray(drawn)) elkChildren.push(drawn);
      parents.set(node.id, [...(parents.get(node.id) ?? []), child.id]);
    }
    if (isRoot) {
      if (rootHasEdges) {
        const label = 'any state';
        elkChildren.push({ id: source, width: textWidth(label, NOTE_SIZE) + 20, height: 20 });
        info.set(source, { kind: 'any', label });
      }
      return elkChildren;
    }
    const counted = countNotes(notes);
    const nameWidth = textWidth(node.key, NAME_SIZE, 600);
    const noteWidth = Math.max(0, ...counted.map((note) => textWidth(note, NOTE_SIZE)));
    const width = Math.max(nameWidth + 28, noteWidth + 24, 84);
    const type = children.length > 0 ? 'compound' : node.type === 'final' ? 'final' : 'atomic';
    info.set(node.id, { kind: type, label: node.key, notes: counted });
    if (type === 'compound') {
      const header = 28 + counted.length * LINE;
      return {
        id: node.id,
        children: elkChildren,
        layoutOptions: {
          'elk.padding': `[top=${String(header + 12)},left=16,bottom=16,right=16]`,
          'elk.nodeSize.constraints': 'MINIMUM_SIZE',
          'elk.nodeSize.minimum': `(${String(width)}, ${String(header + 30)})`,
        },
      };
    }
    const height = 32 + counted.length * LINE + (counted.length > 0 ? 4 : 0);
    return { id: node.id, width, height };
  }

  const visited = visit(definition, true);
  const children = Array.isArray(visited) ? visited : [visited];
  let notesOfRoot = countNotes(rootNotes);
  if (Object.keys(definition.states ?? {}).length === 0) {
    // A machine without states (the root actor) is drawn as one box listing what it handles.
    const width = Math.max(
      textWidth(machineId, NAME_SIZE, 600) + 28,
      ...notesOfRoot.map((note) => textWidth(note, NOTE_SIZE) + 24),
      84,
    );
    children.push({ id: machineId, width, height: 36 + notesOfRoot.length * LINE });
    info.set(machineId, { kind: 'atomic', label: machineId, notes: notesOfRoot });
    notesOfRoot = [];
  }
  const { edges, edgeMeta } = mergeEdges(raw);
  return {
    machineId,
    info,
    edgeMeta,
    parents,
    rootNotes: notesOfRoot,
    innerTransitions,
    elk: {
      id: `${machineId}::root`,
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': direction,
        'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
        'elk.json.edgeCoords': 'ROOT',
        'elk.json.shapeCoords': 'ROOT',
        'elk.edgeRouting': 'ORTHOGONAL',
        'elk.layered.spacing.nodeNodeBetweenLayers': '50',
        'elk.spacing.nodeNode': '28',
        'elk.spacing.edgeNode': '16',
        'elk.spacing.edgeEdge': '12',
        'elk.spacing.edgeLabel': '3',
        'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
        'elk.padding': '[top=12,left=12,bottom=12,right=12]',
      },
      children,
      edges,
    },
  };
}

/** A pair of opposite transitions with the same label is drawn as one edge with two heads. */
function mergeEdges(raw: readonly RawEdge[]): {
  edges: ElkExtendedEdge[];
  edgeMeta: Map<string, EdgeMeta>;
} {
  const edges: ElkExtendedEdge[] = [];
  const edgeMeta = new Map<string, EdgeMeta>();
  const used = new Set<number>();
  raw.forEach((edge, index) => {
    if (used.has(index)) return;
    used.add(index);
    const reverseIndex = raw.findIndex(
      (other, at) =>
        at > index &&
        !used.has(at) &&
        edge.source !== edge.target &&
        other.source === edge.target &&
        other.target === edge.source &&
        other.label === edge.label &&
        edge.eventType !== 'xstate.init',
    );
    if (reverseIndex >= 0) used.add(reverseIndex);
    const id = `e${String(edges.length + 1)}`;
    const width = edge.label === '' ? 0 : textWidth(edge.label, LABEL_SIZE) + 8;
    edges.push({
      id,
      sources: [edge.source],
      targets: [edge.target],
      labels: edge.label === '' ? [] : [{ id: `${id}l`, text: edge.label, width, height: 16 }],
    });
    edgeMeta.set(id, { ...edge, both: reverseIndex >= 0 });
  });
  return { edges, edgeMeta };
}
