/**
 * Cluster mode on one instance: who owns each conversation this instance serves, and the routing
 * that follows from it. The owner (the holder of the conversation's Redis lease, fenced in
 * PostgreSQL with the lease's epoch) runs the conversation in its engine and publishes every
 * logged frame on the conversation's Redis Stream; any other instance with participants follows
 * that stream for them and forwards their inputs to the owner's inbox. When the owner's lease ends
 * (it died, paused, drained, or lost Redis), an instance with participants takes the lease,
 * restores the conversation from PostgreSQL and moves its participants to its engine; every
 * client goes on from the highest seq it had.
 *
 * Acknowledged inputs: a follower keeps each `user_message`, `cancel` and `tool_approval` it
 * forwards until the owner acknowledges it on the conversation's stream (after the input's
 * effects, once they are logged). If the conversation moves first (the owner died or was fenced
 * with the input in its inbox), the follower answers the client with `cluster_unavailable` for it,
 * so that no input is dropped without a word; the client sends it again.
 *
 * Over 300 lines because ownership changes touch every part at once (lease, fence, engine,
 * follow, inbox, ports), and splitting them would spread one state change over several files.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Subscription } from 'rxjs';
import type { ConnectionEvent, SocketPort } from '../../actors/connection-types.js';
import type { Member, Role } from '../../actors/membership.js';
import type { ConnectionHandle, Engine } from '../engine/engine-types.js';
import { stampFrame } from '../engine/stamp-frame.js';
import { ParleyError } from '../errors.js';
import { clusterUnavailable } from './cluster-error.js';
import { clusterKeys, type ClusterKeys } from './cluster-keys.js';
import {
  membersOf,
  PendingRequests,
  readReply,
  refusal,
  runMembershipRequest,
  type MembershipRequest,
} from './conversation-requests.js';
import { LocalPort, RemotePort, RoutedConnection } from './cluster-ports.js';
import type { ClusterStore } from './cluster-store.js';
import { FrameFollower } from './frame-follower.js';
import { FramePublisher } from './frame-publisher.js';
import type { ClusterFrame } from './frame-stream-entry.js';
import { InboundSender } from './inbound-sender.js';
import { InboxReader, type InboxDelivery } from './inbox-reader.js';
import { LeaseKeeper } from './lease-keeper.js';
import { RedisLeases } from './redis-lease.js';

/** Options for {@link ClusterNode}. */
export interface ClusterNodeOptions {
  redis: Redis;
  store: ClusterStore;
  instanceId: string;
  /** `PARLEY_LEASE_MS`. @default 10_000 */
  leaseMs?: number;
  /** Redis key prefix. @default 'parley:' */
  keyPrefix?: string;
  /** Told about Redis and PostgreSQL failures (retried) and ownership changes. */
  log?: (level: 'info' | 'warn', fields: object, message: string) => void;
}

/** One conversation in the node's status. */
export interface ClusterConversationStatus {
  conversation_id: string;
  /** `owner`: this instance writes it; `follower`: another does; `none`: nobody holds it now. */
  role: 'owner' | 'follower' | 'none';
  owner: string | null;
  epoch: number | null;
  local_connections: number;
  remote_connections: number;
}

/** What {@link ClusterNode.status} returns (for /health/ready and the inspector). */
export interface ClusterStatus {
  instance_id: string;
  redis: { ok: boolean; error?: string };
  postgres: { ok: boolean; error?: string };
  lease_ms: number;
  conversations: ClusterConversationStatus[];
}

interface Route {
  conversationId: string;
  role: 'owner' | 'follower' | 'none';
  owner: string | undefined;
  /**
   * The epoch of the owner's lease (this instance's own as owner, the followed owner's as
   * follower): an owner that lost its lease and took it again has a new one, and knows nothing of
   * the connections forwarded to it before.
   */
  epoch: number | undefined;
  connections: Map<string, RoutedConnection>;
  follow: Subscription | undefined;
  /** The highest event seq the follow delivered. */
  followSeq: number;
  /** Ownership checks and changes of one conversation run one at a time. */
  busy: Promise<void>;
  /** Conversation API requests under way here (the route is kept while there are any). */
  requests: number;
}

type InboxInput =
  | {
      type: 'open';
      user_id: string;
      since?: number;
      /** What the client's instance admitted it with, for the owner's engine to enforce. */
      role?: Role;
      read_only?: true;
      agent?: string;
    }
  | { type: 'event'; event: ConnectionEvent }
  /** A conversation API change for the owner to make (`connection_id` is the request id). */
  | { type: 'request'; request: MembershipRequest }
  /** The owner's answer to a request, in the requesting instance's inbox. */
  | { type: 'reply'; reply: unknown };

/**
 * The cluster side of one Parley instance.
 *
 * @example
 * const node = new ClusterNode({ redis, store, instanceId: 'parley-1' });
 * const engine = createEngine({ config, store, onFrameDurable: node.onFrameDurable });
 * node.start(engine);
 */
export class ClusterNode {
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly #redis: Redis;
  readonly #store: ClusterStore;
  readonly #keys: ClusterKeys;
  readonly #leases: RedisLeases;
  readonly #keeper: LeaseKeeper;
  readonly #publisher: FramePublisher;
  readonly #follower: FrameFollower;
  readonly #sender: InboundSender;
  readonly #requests = new PendingRequests();
  readonly #inbox: InboxReader;
  readonly #log: NonNullable<ClusterNodeOptions['log']>;
  readonly #routes = new Map<string, Route>();
  /** Connections of other instances to conversations this instance owns. */
  readonly #remotes = new Map<string, RemotePort>();
  /**
   * Frames to publish, per conversation: this tick's, and those that came while the previous
   * publication was in flight (they go together, in one entry per conversation, when it ends).
   */
  readonly #toPublish = new Map<string, ClusterFrame[]>();
  /** The publication in flight: one at a time, so each conversation's entries stay in order. */
  #publishing: Promise<void> | undefined;
  #publishScheduled = false;
  #engine: Engine | undefined;
  #inboxSubscription: Subscription | undefined;
  #timers: NodeJS.Timeout[] = [];
  #redisOk = true;
  #redisError: string | undefined;
  #draining = false;

  constructor(options: ClusterNodeOptions) {
    this.instanceId = options.instanceId;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.#redis = options.redis;
    this.#store = options.store;
    this.#keys = clusterKeys(options.keyPrefix ?? 'parley:');
    this.#log = options.log ?? (() => undefined);
    const keys = this.#keys;
    this.#leases = new RedisLeases(this.#redis, {
      instanceId: this.instanceId,
      leaseMs: this.leaseMs,
      keys,
    });
    this.#keeper = new LeaseKeeper(this.#leases, {
      onError: (error) => {
        this.#redisFailed(error);
      },
    });
    this.#publisher = new FramePublisher(this.#redis, { keys });
    this.#follower = new FrameFollower(this.#redis, {
      store: this.#store,
      keys,
      blockMs: 1_000,
      onError: (error) => {
        this.#log('warn', { error: error.message }, 'cluster: following frames failed');
      },
    });
    this.#sender = new InboundSender(this.#redis, { instanceId: this.instanceId, keys });
    this.#inbox = new InboxReader(this.#redis, {
      instanceId: this.instanceId,
      keys,
      blockMs: 1_000,
      onError: (error) => {
        this.#redisFailed(error);
      },
    });
  }

  /** The engine hook: publishes each logged frame of an owned conversation. */
  readonly onFrameDurable = (
    conversationId: string,
    frame: { seq: number; to?: string; text: string },
  ): void => {
    const route = this.#routes.get(conversationId);
    if (route?.role !== 'owner') return;
    this.#queuePublish(conversationId, frame);
  };

  /** The store hook: PostgreSQL refused a conversation's entries (another instance took it). */
  readonly onFenced = (conversationIds: string[]): void => {
    for (const conversationId of conversationIds) {
      const route = this.#routes.get(conversationId);
      if (route?.role !== 'owner') continue;
      this.#log('warn', { conversation_id: conversationId }, 'cluster: fenced by a newer owner');
      this.#serially(route, async () => {
        this.#demote(route);
        await this.#keeper.release(conversationId).catch(() => undefined);
      });
    }
  };

  /** Starts reading the inbox and watching leases. */
  start(engine: Engine): void {
    this.#engine = engine;
    this.#inboxSubscription = this.#inbox.records().subscribe((delivery) => {
      this.#onInbox(delivery);
    });
    this.#keeper.events$.subscribe((event) => {
      if (event.type !== 'lost') return;
      const route = this.#routes.get(event.lease.conversationId);
      if (route?.role !== 'owner' || route.epoch !== event.lease.epoch) return;
      this.#log(
        'warn',
        { conversation_id: route.conversationId, reason: event.reason },
        'cluster: lease lost',
      );
      this.#serially(route, () => {
        this.#demote(route);
        return Promise.resolve();
      });
    });
    const watchMs = Math.max(50, Math.floor(this.leaseMs / 4));
    this.#timers.push(
      setInterval(() => {
        for (const route of this.#routes.values()) {
          if (route.role !== 'owner') this.#serially(route, () => this.#check(route));
          else if (this.#unused(route)) this.#serially(route, () => this.#letGo(route));
        }
      }, watchMs).unref(),
      setInterval(() => {
        void this.#pingRedis();
      }, 1_000).unref(),
    );
  }

  /** The WebSocket adapter's way in: a connection routed to wherever its conversation is owned. */
  async openConnection(options: {
    userId: string;
    conversationId: string;
    socket: SocketPort;
    since?: number;
    /** The member role it was admitted with; whichever engine runs it enforces it. */
    role?: Role;
    /** Reads but may not post (the `authorize` hook refused `post`). */
    readOnly?: true;
    /** The agent of a conversation this join creates (`?agent=`). */
    agent?: string;
  }): Promise<ConnectionHandle> {
    const { userId, conversationId, socket, since, role, readOnly, agent } = options;
    const connection = new RoutedConnection(
      `conn_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
      userId,
      conversationId,
      socket,
      (routed, event) => {
        this.#onClientEvent(routed, event);
      },
    );
    connection.admission = {
      ...(role === undefined ? {} : { role }),
      ...(readOnly === undefined ? {} : { readOnly }),
      ...(agent === undefined ? {} : { agent }),
    };
    if (since !== undefined) {
      connection.lastSeq = since;
      connection.receiving = true;
    }
    const route = this.#route(conversationId);
    route.connections.set(connection.connectionId, connection);
    await this.#step(route, async () => {
      if (route.role !== 'owner') await this.#check(route);
      await this.#attach(route, connection, since);
    });
    return connection;
  }

  /**
   * The conversation API's member changes (creation included), made by the conversation's owner:
   * here when this instance owns it or takes the free lease, otherwise forwarded to the owner's
   * inbox, whose reply comes back to this instance's inbox. Resolves with the members once the
   * owner's log has the change; rejects with `cluster_unavailable` when there is no reachable
   * owner or it did not answer.
   */
  async changeMembership(
    conversationId: string,
    change: MembershipRequest['change'],
    options: { agent?: string } = {},
  ): Promise<Member[]> {
    const request: MembershipRequest = {
      type: 'membership',
      change,
      ...(options.agent === undefined ? {} : { agent: options.agent }),
    };
    const route = this.#route(conversationId);
    route.requests += 1;
    try {
      await this.#step(route, async () => {
        if (route.role !== 'owner') await this.#check(route);
      });
      if (route.role === 'owner' && this.accepting(conversationId)) {
        return membersOf(
          await runMembershipRequest(this.#requireEngine(), conversationId, request),
        );
      }
      const owner = route.owner;
      if (route.role !== 'follower' || owner === undefined || !this.#redisOk) {
        throw new ParleyError(
          'cluster_unavailable',
          `Conversation ${conversationId} has no reachable owner now: Redis or PostgreSQL is unavailable. Try again shortly.`,
        );
      }
      const requestId = `${this.instanceId}:${randomUUID()}`;
      const reply = this.#requests.wait(requestId, Math.max(5_000, this.leaseMs));
      try {
        await this.#sender.forward(owner, {
          id: requestId,
          conversation_id: conversationId,
          connection_id: requestId,
          input: { type: 'request', request },
        });
      } catch (error) {
        this.#redisFailed(error as Error);
        this.#requests.settle(
          requestId,
          refusal(clusterUnavailable('Forwarding the change to its owner failed', error)),
        );
      }
      return membersOf(await reply);
    } finally {
      route.requests -= 1;
    }
  }

  /** Makes a forwarded change as the owner and sends the reply to the requesting instance. */
  #answer(
    route: Route | undefined,
    from: string,
    requestId: string,
    conversationId: string,
    request: MembershipRequest,
  ): void {
    const answer = async () => {
      const reply =
        route?.role === 'owner' && this.accepting(conversationId)
          ? await runMembershipRequest(this.#requireEngine(), conversationId, request)
          : refusal(
              new ParleyError(
                'cluster_unavailable',
                `Conversation ${conversationId} moved before its owner took the change; it was not made. Send it again.`,
              ),
            );
      await this.#sender
        .forward(from, {
          conversation_id: conversationId,
          connection_id: requestId,
          input: { type: 'reply', reply },
        })
        .catch((error: unknown) => {
          this.#redisFailed(error as Error);
        });
    };
    // After any ownership step under way (a claim finishing), as for participants' inputs; the
    // change itself runs outside the route's queue, which it does not need.
    if (route === undefined) void answer();
    else {
      this.#serially(route, () => {
        void answer();
        return Promise.resolve();
      });
    }
  }

  /** Whether the conversation takes input now (its owner is known and the services answer). */
  accepting(conversationId: string): boolean {
    const route = this.#routes.get(conversationId);
    if (route === undefined || !this.#redisOk || !this.#store.available) return false;
    if (route.role === 'owner') return this.#keeper.lease(conversationId) !== undefined;
    return route.role === 'follower';
  }

  /** Owned and followed conversations, and whether Redis and PostgreSQL answer. */
  /** The lease keeper's acquisitions, losses and releases (for the lease metrics). */
  get leaseEvents$() {
    return this.#keeper.events$;
  }

  status(): ClusterStatus {
    const conversations: ClusterConversationStatus[] = [];
    const remoteCounts = new Map<string, number>();
    for (const port of this.#remotes.values()) {
      remoteCounts.set(port.conversationId, (remoteCounts.get(port.conversationId) ?? 0) + 1);
    }
    for (const route of this.#routes.values()) {
      conversations.push({
        conversation_id: route.conversationId,
        role: route.role,
        owner: route.role === 'owner' ? this.instanceId : (route.owner ?? null),
        epoch: route.role === 'owner' ? (route.epoch ?? null) : null,
        local_connections: route.connections.size,
        remote_connections: remoteCounts.get(route.conversationId) ?? 0,
      });
    }
    const storeError = this.#store.lastError;
    return {
      instance_id: this.instanceId,
      redis: this.#redisOk ? { ok: true } : { ok: false, error: this.#redisError ?? 'unknown' },
      postgres: this.#store.available
        ? { ok: true }
        : { ok: false, error: storeError ?? 'unknown' },
      lease_ms: this.leaseMs,
      conversations,
    };
  }

  /**
   * Before the engine stops: other instances' participants are not closed by it (their
   * instances take the conversations over once the leases are released).
   */
  beginDrain(): void {
    this.#draining = true;
    for (const port of this.#remotes.values()) port.cut = true;
  }

  /** After the engine stopped: publishes what is left, releases every lease, stops reading. */
  async close(): Promise<void> {
    this.#draining = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#flushPublish();
    // Each publication that ends starts the next with what came meanwhile.
    while (this.#publishing !== undefined) await this.#publishing;
    const owned: string[] = [];
    for (const route of this.#routes.values()) {
      route.follow?.unsubscribe();
      if (route.role !== 'owner') continue;
      this.#store.unfence(route.conversationId);
      owned.push(route.conversationId);
    }
    const released = await this.#keeper.close().then(
      () => true,
      (error: unknown) => {
        this.#log('warn', { error: String(error) }, 'cluster: releasing leases failed');
        return false;
      },
    );
    // Followers take the conversations at once instead of at their next ownership check.
    if (released) {
      const engine = this.#requireEngine();
      const markers = new Map<string, ClusterFrame[]>();
      for (const conversationId of owned) {
        markers.set(conversationId, [
          { seq: engine.currentSeq(conversationId) ?? 0, text: '', released: true },
        ]);
      }
      // One pipeline; a marker that is not published leaves followers to their next check.
      await this.#publisher.publishAll(markers).catch(() => undefined);
    }
    this.#requests.failAll('This instance is shutting down; the change may not have been made.');
    this.#inboxSubscription?.unsubscribe();
    await this.#follower.close();
  }

  // --- ownership -------------------------------------------------------------------------------

  #route(conversationId: string): Route {
    let route = this.#routes.get(conversationId);
    if (route === undefined) {
      route = {
        conversationId,
        role: 'none',
        owner: undefined,
        epoch: undefined,
        connections: new Map(),
        follow: undefined,
        followSeq: 0,
        busy: Promise.resolve(),
        requests: 0,
      };
      this.#routes.set(conversationId, route);
    }
    return route;
  }

  /** {@link #serially}, resolving once the work ran (whether it failed or not: it is logged). */
  #step(route: Route, work: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#serially(route, async () => {
        try {
          await work();
        } finally {
          resolve();
        }
      });
    });
  }

  #serially(route: Route, work: () => Promise<void>): void {
    route.busy = route.busy.then(work).catch((error: unknown) => {
      this.#log(
        'warn',
        { conversation_id: route.conversationId, error: String(error) },
        'cluster: ownership step failed',
      );
    });
  }

  /** Finds the conversation's owner, taking the lease when nobody holds it. */
  async #check(route: Route): Promise<void> {
    if (this.#draining) return;
    if (route.connections.size === 0 && route.role !== 'owner' && route.requests === 0) {
      this.#forgetRoute(route);
      return;
    }
    const holder = await this.#leases.holder(route.conversationId).catch((error: unknown) => {
      this.#redisFailed(error as Error);
      return null;
    });
    if (holder === null) return;
    if (holder === undefined) {
      await this.#claim(route);
      return;
    }
    // A lease of ours that the keeper gave up on (Redis paused past it) only waits to expire.
    if (holder.holder === this.instanceId) return;
    if (
      route.role !== 'follower' ||
      route.owner !== holder.holder ||
      route.epoch !== holder.epoch
    ) {
      await this.#follow(route, holder.holder, holder.epoch);
    }
  }

  async #claim(route: Route): Promise<void> {
    const { conversationId } = route;
    const stored = await this.#store.currentEpoch(conversationId);
    const result = await this.#keeper.acquire(conversationId, { minEpoch: (stored ?? 0) + 1 });
    if (!result.acquired) {
      await this.#follow(route, result.current.holder, result.current.epoch);
      return;
    }
    try {
      await this.#store.fence(conversationId, result.lease.epoch);
    } catch (error) {
      this.#store.unfence(conversationId);
      await this.#keeper.release(conversationId).catch(() => undefined);
      throw error;
    }
    this.#log(
      'info',
      { conversation_id: conversationId, epoch: result.lease.epoch },
      'cluster: took ownership',
    );
    route.follow?.unsubscribe();
    route.follow = undefined;
    // A copy of the conversation this engine still runs from before (started by a request that
    // raced a lease loss) has an old seq and a fenced log: the owner restores it afresh.
    const engine = this.#requireEngine();
    if (engine.currentSeq(conversationId) !== undefined) engine.evict(conversationId);
    route.role = 'owner';
    route.owner = this.instanceId;
    route.epoch = result.lease.epoch;
    for (const connection of route.connections.values()) {
      if (connection.mode !== 'local') await this.#attachLocal(connection);
    }
  }

  /** Follows another owner: its frames from the stream, this instance's inputs to its inbox. */
  async #follow(route: Route, owner: string, epoch: number): Promise<void> {
    route.role = 'follower';
    route.owner = owner;
    route.epoch = epoch;
    await this.#ensureFollow(route);
    for (const connection of route.connections.values()) {
      if (
        connection.mode !== 'remote' ||
        connection.owner !== owner ||
        connection.ownerEpoch !== epoch
      ) {
        await this.#attachRemote(route, connection);
      }
    }
  }

  /** This instance no longer owns the conversation: its engine lets go, its clients stay. */
  #demote(route: Route): void {
    const engine = this.#requireEngine();
    this.#store.unfence(route.conversationId);
    route.role = 'none';
    route.epoch = undefined;
    this.#toPublish.delete(route.conversationId);
    const evicted = engine.evict(route.conversationId);
    for (const { connectionId, lastEventSeq, remote } of evicted) {
      if (remote) {
        const port = this.#remotes.get(connectionId);
        if (port !== undefined) port.cut = true;
        this.#remotes.delete(connectionId);
        continue;
      }
      const connection = route.connections.get(connectionId);
      if (connection === undefined) continue;
      if (connection.local !== undefined) connection.local.port.cut = true;
      connection.local = undefined;
      connection.lastSeq = Math.max(connection.lastSeq, lastEventSeq);
      connection.receiving = true;
      connection.mode = 'pending';
    }
  }

  /**
   * An owned conversation nobody uses: no participant here or elsewhere, and the engine stopped it
   * (no turn, idle for `PARLEY_CONVERSATION_IDLE_MS`). Its lease would be renewed for ever.
   */
  #unused(route: Route): boolean {
    if (route.connections.size > 0 || route.requests > 0) return false;
    // The engine's lookup first: a running conversation (nearly all of them) ends the check
    // before the scan of remote connections.
    if (this.#requireEngine().currentSeq(route.conversationId) !== undefined) return false;
    for (const port of this.#remotes.values()) {
      if (port.conversationId === route.conversationId) return false;
    }
    return true;
  }

  /** Releases the lease of an unused conversation; the next instance with a participant takes it. */
  async #letGo(route: Route): Promise<void> {
    if (route.role !== 'owner' || !this.#unused(route)) return;
    this.#store.unfence(route.conversationId);
    route.role = 'none';
    route.epoch = undefined;
    this.#toPublish.delete(route.conversationId);
    await this.#keeper.release(route.conversationId).catch(() => undefined);
    this.#log(
      'info',
      { conversation_id: route.conversationId },
      'cluster: released an idle conversation',
    );
    if (route.connections.size === 0) this.#forgetRoute(route);
  }

  #forgetRoute(route: Route): void {
    route.follow?.unsubscribe();
    this.#routes.delete(route.conversationId);
  }

  // --- connections -----------------------------------------------------------------------------

  async #attach(route: Route, connection: RoutedConnection, since?: number): Promise<void> {
    // Taking or finding the owner may have attached it already.
    if (connection.mode !== 'pending') return;
    if (route.role === 'owner') await this.#attachLocal(connection, since);
    else if (route.role === 'follower') await this.#attachRemote(route, connection, since);
  }

  async #attachLocal(connection: RoutedConnection, since?: number): Promise<void> {
    const engine = this.#requireEngine();
    const port = new LocalPort(connection);
    const resumeFrom = connection.receiving || since !== undefined ? connection.lastSeq : undefined;
    const previous = connection.mode;
    if (previous === 'remote') this.#refuseUnacked(connection);
    connection.mode = 'local';
    connection.gate = null;
    let handle: ConnectionHandle;
    try {
      handle = await engine.openConnection({
        connectionId: connection.connectionId,
        userId: connection.userId,
        conversationId: connection.conversationId,
        socket: port,
        ...connection.admission,
        ...(resumeFrom === undefined ? {} : { since: resumeFrom, lastEventSeq: resumeFrom }),
      });
    } catch (error) {
      // The conversation could not be restored (PostgreSQL failed): nothing would ever attach
      // this connection again, so its client reconnects and resumes from its seq.
      connection.mode = 'pending';
      connection.queue.length = 0;
      connection.socket.close(1013, 'log_unavailable');
      throw error;
    }
    connection.local = { handle, port };
    if (previous === 'remote' && connection.owner !== undefined) {
      this.#forward(connection, connection.owner, {
        type: 'event',
        event: { type: 'socket.closed', code: 1001 },
      });
    }
    connection.owner = undefined;
    connection.ownerEpoch = undefined;
    if (connection.closed) {
      handle.send({ type: 'socket.closed', code: 1001 });
      return;
    }
    for (const event of connection.queue.splice(0)) this.#sendLocal(connection, handle, event);
  }

  async #attachRemote(route: Route, connection: RoutedConnection, since?: number): Promise<void> {
    const { owner, epoch } = route;
    if (owner === undefined) return;
    const wasRemote = connection.mode === 'remote';
    // A new owner, or the same one with a new lease, never saw what the old one left unconfirmed.
    if (connection.owner !== owner || connection.ownerEpoch !== epoch) {
      this.#refuseUnacked(connection);
    }
    connection.mode = 'remote';
    connection.owner = owner;
    connection.ownerEpoch = epoch;
    await this.#ensureFollow(route);
    const catchUpFrom =
      connection.receiving || since !== undefined ? connection.lastSeq : undefined;
    const { role, readOnly, agent } = connection.admission;
    this.#forward(connection, owner, {
      type: 'open',
      user_id: connection.userId,
      ...(role === undefined ? {} : { role }),
      ...(readOnly === undefined ? {} : { read_only: readOnly }),
      ...(agent === undefined ? {} : { agent }),
      ...(catchUpFrom === undefined ? {} : { since: catchUpFrom }),
    });
    for (const event of connection.queue.splice(0)) {
      this.#forward(connection, owner, { type: 'event', event });
    }
    // A connection that followed the stream already has everything up to the follow's seq.
    if (!wasRemote && catchUpFrom !== undefined && catchUpFrom < route.followSeq) {
      await this.#catchUp(connection, catchUpFrom);
    }
  }

  /** Sends the events after `after` from the log while live ones wait, then lets them through. */
  async #catchUp(connection: RoutedConnection, after: number): Promise<void> {
    connection.gate ??= [];
    try {
      for (let from = after; ;) {
        const page = await this.#store.readFrames(connection.conversationId, {
          after: from,
          limit: 500,
        });
        const gate: RoutedConnection['gate'] = connection.gate;
        connection.gate = null;
        for (const entry of page) connection.deliverEvent(entry.seq, JSON.stringify(entry.frame));
        connection.gate = gate;
        const last = page.at(-1);
        if (last === undefined || page.length < 500) break;
        from = last.seq;
      }
    } finally {
      connection.release();
    }
  }

  async #ensureFollow(route: Route): Promise<void> {
    if (route.follow !== undefined) return;
    let from = Number.POSITIVE_INFINITY;
    for (const connection of route.connections.values()) {
      if (connection.receiving) from = Math.min(from, connection.lastSeq);
    }
    if (from === Number.POSITIVE_INFINITY) {
      from = (await this.#store.lastPosition(route.conversationId))?.seq ?? 0;
    }
    route.followSeq = from;
    route.follow = this.#follower.follow(route.conversationId, from).subscribe({
      next: (frame) => {
        this.#onStreamFrame(route, frame);
      },
      error: (error: unknown) => {
        this.#log(
          'warn',
          { conversation_id: route.conversationId, error: String(error) },
          'cluster: follow ended',
        );
        route.follow = undefined;
      },
    });
  }

  #onStreamFrame(route: Route, frame: ClusterFrame): void {
    if (frame.released === true) {
      this.#serially(route, () => this.#check(route));
      return;
    }
    if (frame.to !== undefined) {
      const connection = route.connections.get(frame.to);
      if (frame.ack !== undefined) connection?.unacked.delete(frame.ack);
      if (connection?.mode !== 'remote') return;
      if (frame.text !== '') connection.deliverDirect(frame.text);
      if (frame.close !== undefined) {
        connection.socket.close(frame.close.code, frame.close.reason);
      }
      return;
    }
    route.followSeq = Math.max(route.followSeq, frame.seq);
    for (const connection of route.connections.values()) {
      if (connection.mode === 'remote' && connection.receiving) {
        connection.deliverEvent(frame.seq, frame.text);
      }
    }
  }

  #onClientEvent(connection: RoutedConnection, event: ConnectionEvent): void {
    const route = this.#routes.get(connection.conversationId);
    if (event.type === 'socket.closed') {
      connection.closed = true;
      route?.connections.delete(connection.connectionId);
    } else if (
      event.type === 'frame.received' &&
      event.frame.type === 'user_message' &&
      !this.accepting(connection.conversationId)
    ) {
      this.#refuse(connection, 'user_message', undefined, event.frame.client_message_id);
      return;
    }
    // A connection being attached here is `local` before the engine's handle exists (its open
    // awaits the log): what it sends meanwhile waits in the queue the attach empties.
    if (connection.mode === 'local' && connection.local !== undefined) {
      this.#sendLocal(connection, connection.local.handle, event);
    } else if (connection.mode === 'remote' && connection.owner !== undefined) {
      this.#forward(connection, connection.owner, { type: 'event', event });
    } else if (event.type !== 'socket.closed') connection.queue.push(event);
  }

  /**
   * Gives an input to this instance's engine. One the log then drops, because another instance
   * fenced the conversation (this one was paused past its lease, say), was neither written nor
   * sent: the client is told so instead of waiting for an echo that never comes.
   */
  #sendLocal(connection: RoutedConnection, handle: ConnectionHandle, event: ConnectionEvent): void {
    const tracked = acknowledged({ type: 'event', event });
    if (tracked === undefined) {
      handle.send(event);
      return;
    }
    const { log } = this.#requireEngine();
    const refuse = () => {
      this.#refuse(
        connection,
        tracked.frameType,
        `Conversation ${connection.conversationId} moved to another instance before your ${tracked.frameType} was logged; it was not taken. Send it again.`,
        tracked.clientMessageId,
      );
    };
    // Fenced off already: refused now, not taken by a copy that lost the conversation (a resend
    // would otherwise find it among the recent messages).
    if (log.isFenced(connection.conversationId)) {
      refuse();
      return;
    }
    handle.send(event);
    log.afterDurable(() => {
      if (log.isFenced(connection.conversationId)) refuse();
    });
  }

  #refuse(
    connection: RoutedConnection,
    inReplyTo: string,
    message = `Conversation ${connection.conversationId} takes no input now: its owner, Redis or PostgreSQL is unavailable. Send again shortly.`,
    clientMessageId?: string,
  ): void {
    const error = new ParleyError('cluster_unavailable', message);
    const frame = stampFrame(
      {
        type: 'error',
        code: error.code,
        message: error.message,
        in_reply_to: inReplyTo,
        ...(clientMessageId === undefined
          ? {}
          : { details: { client_message_id: clientMessageId } }),
      },
      connection.conversationId,
      connection.lastSeq,
      Date.now(),
    );
    connection.socket.send(JSON.stringify(frame));
  }

  #forward(connection: RoutedConnection, owner: string, input: InboxInput): void {
    const id = `${this.instanceId}:${randomUUID()}`;
    const tracked = acknowledged(input);
    if (tracked !== undefined) connection.unacked.set(id, tracked);
    connection.forwarding = connection.forwarding.then(async () => {
      try {
        await this.#sender.forward(owner, {
          id,
          conversation_id: connection.conversationId,
          connection_id: connection.connectionId,
          input,
        });
      } catch (error) {
        this.#redisFailed(error as Error);
        if (input.type === 'event' && input.event.type === 'frame.received') {
          connection.unacked.delete(id);
          this.#refuse(connection, input.event.frame.type);
        }
      }
    });
  }

  /**
   * The conversation moved away from the instance these inputs went to before it acknowledged
   * them: they may never be taken, and the client is told so for each one.
   */
  #refuseUnacked(connection: RoutedConnection): void {
    for (const { frameType, clientMessageId } of connection.unacked.values()) {
      this.#refuse(
        connection,
        frameType,
        `The owner of conversation ${connection.conversationId} changed before it confirmed your ${frameType}; it may not have been taken. If it does not appear, send it again.`,
        clientMessageId,
      );
    }
    connection.unacked.clear();
  }

  // --- the owner's side ------------------------------------------------------------------------

  #onInbox(delivery: InboxDelivery): void {
    const { record } = delivery;
    void delivery.ack().catch(() => undefined);
    const input = record.input as InboxInput;
    if (input.type === 'reply') {
      const reply = readReply(input.reply);
      if (reply !== undefined) this.#requests.settle(record.connection_id, reply);
      return;
    }
    const route = this.#routes.get(record.conversation_id);
    if (input.type === 'request') {
      this.#answer(route, record.from, record.connection_id, record.conversation_id, input.request);
      return;
    }
    if (route === undefined) return;
    // After any ownership step under way: a relay may see this instance's lease before the
    // fence that ends the claim, and send its inputs here at once.
    this.#serially(route, () => {
      this.#onRecord(route, record.id, record.connection_id, input);
      return Promise.resolve();
    });
  }

  #onRecord(
    route: Route,
    recordId: string,
    connectionId: string,
    input: Extract<InboxInput, { type: 'open' | 'event' }>,
  ): void {
    if (input.type === 'open') {
      if (route.role === 'owner') this.#openRemote(route, connectionId, input);
      return;
    }
    const port = this.#remotes.get(connectionId);
    if (port === undefined) return;
    if (input.event.type === 'socket.closed') this.#remotes.delete(connectionId);
    port.deliver(input.event);
    if (acknowledged(input) === undefined) return;
    // After what the input caused is logged, so the stream has its effects before the ack.
    const engine = this.#requireEngine();
    engine.log.afterDurable(() => {
      if (route.role !== 'owner') return;
      this.#queuePublish(route.conversationId, {
        seq: engine.currentSeq(route.conversationId) ?? 0,
        to: connectionId,
        text: '',
        ack: recordId,
      });
    });
  }

  #openRemote(route: Route, connectionId: string, input: Extract<InboxInput, { type: 'open' }>) {
    const engine = this.#requireEngine();
    // A repeated open (a resend) finds the connection open already.
    if (this.#remotes.has(connectionId)) return;
    const port = new RemotePort(connectionId, route.conversationId, {
      direct: (frame) => {
        // After the log has what came before it, so the stream keeps the conversation's order.
        engine.log.afterDurable(() => {
          if (route.role === 'owner') this.#queuePublish(route.conversationId, frame);
        });
      },
      currentSeq: () => engine.currentSeq(route.conversationId) ?? 0,
    });
    this.#remotes.set(connectionId, port);
    engine
      .openConnection({
        connectionId,
        userId: input.user_id,
        conversationId: route.conversationId,
        socket: port,
        remote: true,
        ...(input.since === undefined ? {} : { since: input.since }),
        ...(input.role === undefined ? {} : { role: input.role }),
        ...(input.read_only === undefined ? {} : { readOnly: input.read_only }),
        ...(input.agent === undefined ? {} : { agent: input.agent }),
      })
      .then(
        (handle) => {
          port.handle = handle;
          for (const event of port.early.splice(0)) handle.send(event);
        },
        (error: unknown) => {
          this.#remotes.delete(connectionId);
          this.#log(
            'warn',
            { error: String(error) },
            'cluster: opening a remote connection failed',
          );
        },
      );
  }

  #queuePublish(conversationId: string, frame: ClusterFrame): void {
    let frames = this.#toPublish.get(conversationId);
    if (frames === undefined) {
      frames = [];
      this.#toPublish.set(conversationId, frames);
    }
    frames.push(frame);
    if (this.#publishScheduled || this.#publishing !== undefined) return;
    this.#publishScheduled = true;
    process.nextTick(() => {
      this.#flushPublish();
    });
  }

  /**
   * Publishes every queued frame in one pipeline, unless a publication is in flight (it calls this
   * again when it ends). Measured with bench/cluster-fan-out.ts (docs/PERFORMANCE.md, issue 16):
   * one entry per conversation and one write per tick instead of one XADD per frame and one
   * pipeline per conversation.
   */
  #flushPublish(): void {
    this.#publishScheduled = false;
    if (this.#publishing !== undefined || this.#toPublish.size === 0) return;
    const batches = new Map(this.#toPublish);
    this.#toPublish.clear();
    this.#publishing = this.#publisher
      .publishAll(batches)
      .then(
        (failed) => {
          // Followers read what the stream lacks from PostgreSQL at the next frame's gap.
          const [error] = failed.values();
          if (error !== undefined) this.#redisFailed(error);
        },
        (error: unknown) => {
          this.#redisFailed(error as Error);
        },
      )
      .finally(() => {
        this.#publishing = undefined;
        this.#flushPublish();
      });
  }

  // --- health ----------------------------------------------------------------------------------

  async #pingRedis(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error('no answer to PING within 1000 ms'));
          }, 1_000);
        }),
      ]);
      if (!this.#redisOk) this.#log('info', {}, 'cluster: Redis answers again');
      this.#redisOk = true;
      this.#redisError = undefined;
    } catch (error) {
      this.#redisFailed(error as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  #redisFailed(error: Error): void {
    if (this.#redisOk) this.#log('warn', { error: error.message }, 'cluster: Redis failed');
    this.#redisOk = false;
    this.#redisError = error.message;
  }

  #requireEngine(): Engine {
    if (this.#engine === undefined) throw new Error('ClusterNode.start(engine) was not called.');
    return this.#engine;
  }
}

/** The client input a follower waits to see acknowledged, or undefined for the others. */
function acknowledged(
  input: InboxInput,
): { frameType: string; clientMessageId?: string } | undefined {
  if (input.type !== 'event' || input.event.type !== 'frame.received') return undefined;
  const { frame } = input.event;
  if (frame.type === 'user_message') {
    return frame.client_message_id === undefined
      ? { frameType: frame.type }
      : { frameType: frame.type, clientMessageId: frame.client_message_id };
  }
  return frame.type === 'cancel' || frame.type === 'tool_approval'
    ? { frameType: frame.type }
    : undefined;
}
