/**
 * The statechart view: builds an ELK graph (layered, nested compound states) from a machine's
 * `toJSON()` definition, lays it out once per machine kind, draws it as SVG, then only toggles
 * classes: the active states, and the last transition taken. Wheel zooms, drag pans, a double
 * click fits the chart again.
 *
 * Over 500 lines because it holds two halves that change together: turning the XState
 * definition into an ELK graph (compound states, always/after/guard labels, merged two-way
 * edges) and drawing ELK's result as SVG. Split next: the graph builder into its own module.
 */
import { activeStateIds, clear, s, textWidth } from './dom.js';

const NAME_SIZE = 13;
const NOTE_SIZE = 11;
const LINE = 15;
const LABEL_SIZE = 11;
/** A small chart is not blown up past this scale when fitted. */
const MAX_FIT_SCALE = 1.5;

/** Lays out and draws machine definitions, and highlights the current state. */
export class Statechart {
  /**
   * @param {SVGSVGElement} svg the diagram element (`data-testid="diagram"`)
   * @param {() => object} createElk makes an ELK instance (from the page's `elk.js`)
   * @param {(text: string) => void} onCaption reports the last transition in words
   */
  constructor(svg, createElk, onCaption) {
    this.svg = svg;
    this.createElk = createElk;
    this.onCaption = onCaption;
    /** kind → Promise of the drawn chart */
    this.layouts = new Map();
    this.kind = null;
    this.current = null;
    this.active = new Set();
    this.request = 0;
    this.view = null;
    this.zoomed = false;
    new ResizeObserver(() => {
      if (!this.zoomed) this.fit();
    }).observe(svg);
    this.enablePanZoom();
  }

  /** Shows the machine of `kind`; lays it out the first time that kind is shown. */
  async show(kind, definition) {
    if (this.kind === kind && this.current?.kind === kind) return;
    // A second call for the kind being laid out waits for the same layout: until it is drawn,
    // `current` is still the previous machine's chart, which must not take this kind's states.
    if (this.kind !== kind) this.request += 1;
    this.kind = kind;
    const request = this.request;
    if (!this.layouts.has(kind)) this.layouts.set(kind, this.layout(definition));
    let drawn;
    try {
      drawn = await this.layouts.get(kind);
    } catch (error) {
      this.layouts.delete(kind);
      this.onCaption(`layout failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (request !== this.request || this.current?.kind === kind) return;
    clear(this.svg);
    this.svg.append(defs(), drawn.group);
    this.svg.dataset.kind = kind;
    this.current = { ...drawn, kind };
    this.active = new Set();
    this.zoomed = false;
    this.fit();
  }

  /** Forgets the highlighted states (another actor is shown): the next state is not a transition. */
  reset() {
    this.active = new Set();
    for (const edge of this.current?.edges ?? []) unmark(edge);
    this.onCaption('');
  }

  /** Hides the diagram (nothing selected). */
  hide() {
    this.request += 1;
    this.kind = null;
    this.current = null;
    clear(this.svg);
    this.svg.removeAttribute('data-kind');
  }

  /**
   * Highlights the states of a dotted state value. A state change also marks the transition
   * that explains it (or the ones named in `taken`, from a microstep), and tells the caption.
   *
   * @param {string} state dotted state (`working.streaming`)
   * @param {{ taken?: { source: string, target: string, eventType?: string }[], historical?: boolean, quiet?: boolean }} [options]
   * @returns {boolean} whether the state changed
   */
  setState(state, options = {}) {
    const drawn = this.current;
    if (!drawn) return false;
    const next = activeStateIds(drawn.machineId, state);
    const previous = this.active;
    const changed = previous.size !== next.size || [...next].some((id) => !previous.has(id));
    this.svg.classList.toggle('historical', options.historical === true);
    this.active = next;
    if (!changed && !options.taken) return false;
    for (const [id, group] of drawn.nodes) {
      const isActive = next.has(id);
      group.classList.toggle('active', isActive);
      group.classList.toggle('current', isActive && !hasActiveChild(id, next, drawn));
    }
    const taken =
      options.taken && options.taken.length > 0
        ? options.taken
        : previous.size > 0
          ? explain(drawn, previous, next)
          : [];
    for (const edge of drawn.edges) unmark(edge);
    const marked = [];
    for (const step of taken) {
      const edge = drawn.edges.find(
        (candidate) =>
          candidate.source === strip(step.source) &&
          candidate.target === strip(step.target) &&
          (!step.eventType || candidate.eventType === step.eventType),
      );
      if (!edge) continue;
      edge.group.classList.add('last', `last-${edge.direction}`);
      // Drawn last so the marked edge is above the others.
      edge.group.parentNode.append(edge.group);
      marked.push(edge);
    }
    if (options.quiet) return changed;
    if (previous.size > 0) {
      const from = leafNames(previous, drawn);
      const to = leafNames(next, drawn);
      const how = marked.length > 0 ? ` on ${[...new Set(marked.map((edge) => edge.label))].join(', ')}` : '';
      this.onCaption(from === to ? `${to}${how}` : `${from} → ${to}${how}`);
    } else this.onCaption('');
    return changed;
  }

  async layout(definition) {
    // Both directions are laid out once; the one that fits the panel best is kept.
    const width = this.svg.clientWidth || 800;
    const height = this.svg.clientHeight || 600;
    const elk = this.createElk();
    const results = await Promise.all(
      ['RIGHT', 'DOWN'].map(async (direction) => {
        const graph = buildGraph(definition, direction);
        const result = await elk.layout(graph.elk);
        const scale = Math.min(width / (result.width + 16), height / (result.height + 40));
        return { graph, result, scale };
      }),
    );
    const best = results.reduce((a, b) => (b.scale > a.scale * 1.05 ? b : a));
    return draw(best.result, best.graph);
  }

  /** Fits the whole chart in the panel. */
  fit() {
    const drawn = this.current;
    if (!drawn) return;
    const panelWidth = this.svg.clientWidth || 800;
    const panelHeight = this.svg.clientHeight || 600;
    const width = drawn.width + 16;
    const height = drawn.height + 16;
    const scale = Math.min(panelWidth / width, panelHeight / height, MAX_FIT_SCALE);
    const viewWidth = panelWidth / scale;
    const viewHeight = panelHeight / scale;
    this.setView({ x: -8 - (viewWidth - width) / 2, y: -8 - (viewHeight - height) / 2, width: viewWidth, height: viewHeight });
  }

  setView(view) {
    this.view = view;
    this.svg.setAttribute('viewBox', `${view.x} ${view.y} ${view.width} ${view.height}`);
  }

  enablePanZoom() {
    const svg = this.svg;
    svg.addEventListener(
      'wheel',
      (event) => {
        if (!this.view) return;
        event.preventDefault();
        const box = svg.getBoundingClientRect();
        const factor = Math.exp(event.deltaY * 0.0015);
        const { x, y, width, height } = this.view;
        const pointX = x + ((event.clientX - box.left) / box.width) * width;
        const pointY = y + ((event.clientY - box.top) / box.height) * height;
        this.zoomed = true;
        this.setView({
          x: pointX - (pointX - x) * factor,
          y: pointY - (pointY - y) * factor,
          width: width * factor,
          height: height * factor,
        });
      },
      { passive: false },
    );
    let drag = null;
    svg.addEventListener('pointerdown', (event) => {
      if (!this.view || event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, view: this.view };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener('pointermove', (event) => {
      if (!drag) return;
      const box = svg.getBoundingClientRect();
      const ratio = drag.view.width / box.width;
      this.zoomed = true;
      this.setView({ ...drag.view, x: drag.view.x - (event.clientX - drag.x) * ratio, y: drag.view.y - (event.clientY - drag.y) * ratio });
    });
    const end = () => (drag = null);
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);
    svg.addEventListener('dblclick', () => {
      this.zoomed = false;
      this.fit();
    });
  }
}

function unmark(edge) {
  edge.group.classList.remove('last', 'last-forward', 'last-backward');
}

function hasActiveChild(id, active, drawn) {
  for (const child of drawn.parents.get(id) ?? []) if (active.has(child)) return true;
  return false;
}

function leafNames(active, drawn) {
  return [...active]
    .filter((id) => !hasActiveChild(id, active, drawn) && id !== drawn.machineId)
    .map((id) => id.slice(drawn.machineId.length + 1))
    .join(', ');
}

/** The transition that best explains a change of state: from a state left (deepest first) to one entered. */
function explain(drawn, previous, next) {
  const entered = new Set([...next].filter((id) => !previous.has(id)));
  const candidates = drawn.edges.filter((edge) => previous.has(edge.source) && entered.has(edge.target));
  candidates.sort((a, b) => depth(b.source) - depth(a.source));
  return candidates.slice(0, 1);
}

const depth = (id) => id.split('.').length;
const strip = (target) => (typeof target === 'string' ? target.replace(/^#/, '') : '');

// ------------------------------------------------------------------ machine JSON → ELK graph

function guardName(guard) {
  if (typeof guard === 'string') return guard;
  if (guard && typeof guard === 'object' && typeof guard.type === 'string') return guard.type;
  return '';
}

/** The label of a transition: its event, `always`, or `after <delay>`, with a named guard. */
export function transitionLabel(transition) {
  const eventType = transition.eventType;
  let name;
  if (eventType === '' || eventType === null || eventType === undefined) name = 'always';
  else if (transition.delay !== undefined || eventType.startsWith('xstate.after.')) {
    const delay = transition.delay ?? eventType.split('.')[2];
    name = `after ${typeof delay === 'number' ? `${delay} ms` : delay}`;
  } else name = eventType;
  const guard = guardName(transition.guard);
  return guard === '' ? name : `${name} [${guard}]`;
}

function transitionsOf(node) {
  const list = [...(node.transitions ?? [])];
  // `toJSON()` leaves eventless transitions out; an engine may add them as `always`.
  for (const transition of node.always ?? []) list.push({ ...transition, eventType: '' });
  return list;
}

function targetsOf(transition) {
  const target = transition.target;
  const list = Array.isArray(target) ? target : target === undefined || target === null ? [] : [target];
  return list.map((item) => strip(typeof item === 'string' ? item : item?.id));
}

/** Counts repeated notes: `frame.received ×3`. */
function countNotes(notes) {
  const counts = new Map();
  for (const note of notes) counts.set(note, (counts.get(note) ?? 0) + 1);
  return [...counts].map(([note, count]) => (count > 1 ? `${note} ×${count}` : note));
}

function buildGraph(definition, direction) {
  const machineId = definition.id;
  const info = new Map();
  const parents = new Map();
  const raw = [];
  const rootNotes = [];
  const isAncestor = (ancestor, id) => id.startsWith(`${ancestor}.`);

  function visit(node, isRoot) {
    const children = Object.values(node.states ?? {}).sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    const notes = [];
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
        } else {
          raw.push({ source, target, label, eventType: transition.eventType ?? '' });
          if (isRoot) rootHasEdges = true;
        }
      }
    }
    const elkChildren = [];
    const initial = node.initial?.target ?? [];
    if (children.length > 0 && initial.length > 0) {
      const id = `${node.id}::initial`;
      elkChildren.push({ id, width: 10, height: 10 });
      info.set(id, { kind: 'initial' });
      for (const target of initial) raw.push({ source: id, target: strip(target), label: '', eventType: 'xstate.init' });
    }
    for (const child of children) {
      elkChildren.push(visit(child, false));
      if (!parents.has(node.id)) parents.set(node.id, []);
      parents.get(node.id).push(child.id);
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
          'elk.padding': `[top=${header + 12},left=16,bottom=16,right=16]`,
          'elk.nodeSize.constraints': 'MINIMUM_SIZE',
          'elk.nodeSize.minimum': `(${width}, ${header + 30})`,
        },
      };
    }
    return { id: node.id, width, height: 32 + counted.length * LINE + (counted.length > 0 ? 4 : 0) };
  }

  const children = visit(definition, true);
  if (Object.keys(definition.states ?? {}).length === 0) {
    // A machine without states (the root actor) is drawn as one box listing what it handles.
    const notes = countNotes(rootNotes);
    rootNotes.length = 0;
    const width = Math.max(
      textWidth(machineId, NAME_SIZE, 600) + 28,
      ...notes.map((note) => textWidth(note, NOTE_SIZE) + 24),
      84,
    );
    children.push({ id: machineId, width, height: 36 + notes.length * LINE });
    info.set(machineId, { kind: 'atomic', label: machineId, notes });
  }

  // A pair of opposite transitions with the same label is drawn as one edge with two heads.
  const edges = [];
  const edgeMeta = new Map();
  const used = new Set();
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
    const id = `e${edges.length + 1}`;
    const width = edge.label === '' ? 0 : textWidth(edge.label, LABEL_SIZE) + 8;
    edges.push({
      id,
      sources: [edge.source],
      targets: [edge.target],
      labels: edge.label === '' ? [] : [{ id: `${id}l`, text: edge.label, width, height: 16 }],
    });
    edgeMeta.set(id, { ...edge, both: reverseIndex >= 0 });
  });

  return {
    machineId,
    info,
    edgeMeta,
    parents,
    rootNotes: countNotes(rootNotes),
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

// ------------------------------------------------------------------ ELK result → SVG

function defs() {
  const arrow = (id) =>
    s(
      'marker',
      { id, viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z' }),
    );
  return s('defs', {}, arrow('arrow'), arrow('arrow-last'));
}

/** Wraps words into lines no wider than `width` px. */
function wrap(words, width, size) {
  const lines = [];
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

function draw(result, graph) {
  const group = s('g', { class: 'chart' });
  const nodes = new Map();
  const nodeLayer = s('g', { class: 'nodes' });
  const edgeLayer = s('g', { class: 'edges' });
  const width = graph.rootNotes.length > 0 ? Math.max(result.width ?? 0, 360) : (result.width ?? 0);
  let notesHeight = 0;
  if (graph.rootNotes.length > 0) {
    const title = `${graph.machineId}: in every state, no state change on`;
    const lines = wrap(graph.rootNotes, width - 12, NOTE_SIZE);
    group.append(s('text', { class: 'root-notes-title', x: 12, y: 14, text: title }));
    lines.forEach((line, index) => group.append(s('text', { class: 'root-notes', x: 12, y: 30 + index * 14, text: line })));
    notesHeight = 26 + lines.length * 14;
  }

  const visit = (node) => {
    const meta = graph.info.get(node.id);
    if (meta) nodeLayer.append(drawNode(node, meta, nodes));
    for (const child of node.children ?? []) visit(child);
  };
  for (const child of result.children ?? []) visit(child);

  const edges = [];
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
    const arrows = meta.both ? `${meta.source} ⇄ ${meta.target}` : `${meta.source} → ${meta.target}`;
    edgeGroup.append(s('title', { text: `${meta.label || 'initial state'}: ${arrows}` }));
    edgeGroup.append(
      s('path', { d: roundedPath(points), 'marker-end': 'url(#arrow)', 'marker-start': meta.both ? 'url(#arrow)' : undefined }),
    );
    for (const label of edge.labels ?? []) {
      edgeGroup.append(
        s('rect', { class: 'label-bg', x: label.x, y: label.y, width: label.width, height: label.height, rx: 3 }),
        s('text', { class: 'label', x: label.x + 4, y: label.y + 12, text: label.text }),
      );
    }
    edgeLayer.append(edgeGroup);
    edges.push({ ...meta, group: edgeGroup, direction: 'forward' });
    if (meta.both) {
      edges.push({ ...meta, source: meta.target, target: meta.source, group: edgeGroup, direction: 'backward' });
    }
  }
  group.append(s('g', { transform: `translate(0, ${notesHeight})` }, nodeLayer, edgeLayer));
  return {
    group,
    machineId: graph.machineId,
    nodes,
    parents: new Map(graph.parents),
    edges,
    width,
    height: (result.height ?? 0) + notesHeight,
  };
}

function drawNode(node, meta, nodes) {
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
  group.append(s('title', { text: node.id }));
  group.append(s('rect', { class: 'box', x, y, width, height, rx: meta.kind === 'compound' ? 10 : 8 }));
  if (meta.kind === 'final') {
    group.append(s('rect', { class: 'inner', x: x + 3, y: y + 3, width: width - 6, height: height - 6, rx: 6 }));
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
function roundedPath(points) {
  if (points.length < 3) return `M${points.map((p) => `${p.x},${p.y}`).join(' L')}`;
  let d = `M${points[0].x},${points[0].y}`;
  for (let index = 1; index < points.length - 1; index += 1) {
    const [a, b, c] = [points[index - 1], points[index], points[index + 1]];
    const r = Math.min(6, Math.hypot(b.x - a.x, b.y - a.y) / 2, Math.hypot(c.x - b.x, c.y - b.y) / 2);
    const before = towards(b, a, r);
    const after = towards(b, c, r);
    d += ` L${before.x},${before.y} Q${b.x},${b.y} ${after.x},${after.y}`;
  }
  const end = points[points.length - 1];
  return `${d} L${end.x},${end.y}`;
}

function towards(from, to, distance) {
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  return { x: from.x + ((to.x - from.x) / length) * distance, y: from.y + ((to.y - from.y) / length) * distance };
}
