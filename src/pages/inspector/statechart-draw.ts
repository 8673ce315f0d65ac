/**
 * Draws ELK's layout of a statechart graph (statechart-graph.ts) as SVG: state boxes with their
 * notes, rounded orthogonal edges with labels, and the machine's own notes on top. What the view
 * toggles later (active states, the last transition) is kept by id.
 */
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import { s, textWidth } from './dom.js';
import {
  LINE,
  NOTE_SIZE,
  type EdgeMeta,
  type InnerTransition,
  type NodeInfo,
  type StatechartGraph,
} from './statechart-graph.js';

/** An edge as drawn; a two-headed edge is listed twice, once per direction. */
export interface DrawnEdge extends EdgeMeta {
  group: SVGGElement;
  direction: 'forward' | 'backward';
}

/** A drawn statechart. */
export interface DrawnChart {
  group: SVGGElement;
  machineId: string;
  /** state id → its group */
  nodes: Map<string, SVGGElement>;
  parents: Map<string, string[]>;
  edges: DrawnEdge[];
  /** Transitions written inside their state, not drawn as edges: named in the caption. */
  innerTransitions: InnerTransition[];
  width: number;
  height: number;
}

interface Point {
  x: number;
  y: number;
}

/** The arrow heads the edges use: `#arrow`, and `#arrow-last` for the last transition. */
export function defs(): SVGDefsElement {
  const arrow = (id: string) =>
    s(
      'marker',
      {
        id,
        viewBox: '0 0 10 10',
        refX: '9',
        refY: '5',
        markerWidth: '7',
        markerHeight: '7',
        orient: 'auto-start-reverse',
      },
      s('path', { d: 'M0,0 L10,5 L0,10 z' }),
    );
  return s('defs', {}, arrow('arrow'), arrow('arrow-last'));
}

/** Wraps words into lines no wider than `width` px. */
function wrap(words: readonly string[], width: number, size: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const candidate = line === '' ? word : `${line} · ${word}`;
    if (line !== '' && textWidth(candidate, size) > width) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Draws a laid-out graph. */
export function draw(result: ElkNode, graph: StatechartGraph): DrawnChart {
  const group = s('g', { class: 'chart' });
  const nodes = new Map<string, SVGGElement>();
  const nodeLayer = s('g', { class: 'nodes' });
  const edgeLayer = s('g', { class: 'edges' });
  const width = graph.rootNotes.length > 0 ? Math.max(result.width ?? 0, 360) : (result.width ?? 0);
  let notesHeight = 0;
  if (graph.rootNotes.length > 0) {
    const title = `${graph.machineId}: in every state, no state change on`;
    const lines = wrap(graph.rootNotes, width - 12, NOTE_SIZE);
    group.append(s('text', { class: 'root-notes-title', x: 12, y: 14, text: title }));
    lines.forEach((line, index) => {
      group.append(s('text', { class: 'root-notes', x: 12, y: 30 + index * 14, text: line }));
    });
    notesHeight = 26 + lines.length * 14;
  }

  const visit = (node: ElkNode) => {
    const meta = graph.info.get(node.id);
    if (meta) nodeLayer.append(drawNode(node, meta, nodes));
    for (const child of node.children ?? []) visit(child);
  };
  for (const child of result.children ?? []) visit(child);

  const edges: DrawnEdge[] = [];
  for (const edge of result.edges ?? []) {
    const meta = graph.edgeMeta.get(edge.id);
    const section = edge.sections?.[0];
    if (!meta || !section) continue;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
    const initial = meta.eventType === 'xstate.init';
    const edgeGroup = s('g', {
      class: initial ? 'transition initial' : 'transition',
      'data-source': meta.source,
      'data-target': meta.target,
      'data-event': meta.eventType,
    });
    const arrows = meta.both
      ? `${meta.source} ⇄ ${meta.target}`
      : `${meta.source} → ${meta.target}`;
    edgeGroup.append(
      s('title', { text: `${meta.label === '' ? 'initial state' : meta.label}: ${arrows}` }),
      s('path', {
        d: roundedPath(points),
        'marker-end': 'url(#arrow)',
        'marker-start': meta.both ? 'url(#arrow)' : undefined,
      }),
    );
    for (const label of edge.labels ?? []) {
      const { x = 0, y = 0 } = label;
      edgeGroup.append(
        s('rect', {
          class: 'label-bg',
          x,
          y,
          width: label.width,
          height: label.height,
          rx: 3,
        }),
        s('text', { class: 'label', x: x + 4, y: y + 12, text: label.text }),
      );
    }
    edgeLayer.append(edgeGroup);
    edges.push({ ...meta, group: edgeGroup, direction: 'forward' });
    if (meta.both) {
      edges.push({
        ...meta,
        source: meta.target,
        target: meta.source,
        group: edgeGroup,
        direction: 'backward',
      });
    }
  }
  group.append(s('g', { transform: `translate(0, ${String(notesHeight)})` }, nodeLayer, edgeLayer));
  return {
    group,
    machineId: graph.machineId,
    nodes,
    parents: new Map(graph.parents),
    edges,
    innerTransitions: graph.innerTransitions,
    width,
    height: (result.height ?? 0) + notesHeight,
  };
}

function drawNode(node: ElkNode, meta: NodeInfo, nodes: Map<string, SVGGElement>): SVGElement {
  const { x = 0, y = 0, width = 0, height = 0 } = node;
  if (meta.kind === 'initial') {
    return s('circle', { class: 'initial-dot', cx: x + width / 2, cy: y + height / 2, r: 5 });
  }
  if (meta.kind === 'any') {
    return s(
      'g',
      { class: 'any-state' },
      s('rect', { x, y, width, height, rx: 10 }),
      s('text', { x: x + width / 2, y: y + 14, 'text-anchor': 'middle', text: meta.label }),
    );
  }
  const group = s('g', { class: `state ${meta.kind}`, 'data-state-id': node.id });
  group.append(
    s('title', { text: node.id }),
    s('rect', { class: 'box', x, y, width, height, rx: meta.kind === 'compound' ? 10 : 8 }),
  );
  if (meta.kind === 'final') {
    group.append(
      s('rect', {
        class: 'inner',
        x: x + 3,
        y: y + 3,
        width: width - 6,
        height: height - 6,
        rx: 6,
      }),
    );
  }
  group.append(s('text', { class: 'name', x: x + 12, y: y + 20, text: meta.label }));
  meta.notes.forEach((note, index) => {
    group.append(s('text', { class: 'note', x: x + 12, y: y + 37 + index * LINE, text: note }));
  });
  if (meta.kind === 'compound') {
    const lineY = y + 28 + meta.notes.length * LINE;
    group.append(s('line', { class: 'divider', x1: x, x2: x + width, y1: lineY, y2: lineY }));
  }
  nodes.set(node.id, group);
  return group;
}

/** An orthogonal polyline with rounded corners. */
function roundedPath(points: readonly Point[]): string {
  const at = (point: Point) => `${String(point.x)},${String(point.y)}`;
  const [start, ...rest] = points;
  const end = rest.at(-1);
  if (start === undefined || end === undefined) return '';
  if (points.length < 3) return `M${points.map(at).join(' L')}`;
  let d = `M${at(start)}`;
  for (let index = 1; index < points.length - 1; index += 1) {
    const a = points[index - 1] ?? start;
    const b = points[index] ?? start;
    const c = points[index + 1] ?? end;
    const r = Math.min(
      6,
      Math.hypot(b.x - a.x, b.y - a.y) / 2,
      Math.hypot(c.x - b.x, c.y - b.y) / 2,
    );
    d += ` L${at(towards(b, a, r))} Q${at(b)} ${at(towards(b, c, r))}`;
  }
  return `${d} L${at(end)}`;
}

function towards(from: Point, to: Point, distance: number): Point {
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  return {
    x: from.x + ((to.x - from.x) / length) * distance,
    y: from.y + ((to.y - from.y) / length) * distance,
  };
}
